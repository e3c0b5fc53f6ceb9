"""What a feature imports and which Python sources it reads: the measurement behind bundle.py's
TORCH_RUNTIME, TORCH_SOURCES and EXCLUDES. Runs one `affecttrace` command (or the GUI) in this
process, as the packaged build would (packaging/frozen first on the path), and writes JSON:
{"modules": [...], "libraries": [...], "sources": [...]} (sources: files inspect or linecache read).

    build/venv-build/bin/python packaging/trace_use.py OUT.json cli demo ~/demo --duration 20
    build/venv-build/bin/python packaging/trace_use.py OUT.json gui ~/demo --screenshot shot.png

Measured over the smoke steps (packaging/smoke.sh), `train` with every preset, two-process DDP
training (WORLD_SIZE=2 RANK=0/1 ...), `evaluate`, `compare`, `suggest`, `export-csv` and the GUI;
re-run them when torch, PySide6 or pyqtgraph change and union the outputs.
"""
from __future__ import annotations

import atexit
import inspect
import json
import linecache
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent / "frozen"))  # numba's stand-in, as in the build
sources: set[str] = set()


def _recording(fn: Callable, path_of: Callable) -> Callable:
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003
        try:
            sources.add(str(path_of(*args)))
        except Exception:  # an object without a file (built-in): nothing to record
            pass
        return fn(*args, **kwargs)
    return wrapper


def dump(out: Path) -> None:
    libraries = sorted({line.split()[5] for line in open("/proc/self/maps") if len(line.split()) >= 6
                        and ".so" in line.split()[5]})
    out.write_text(json.dumps({"modules": sorted(sys.modules), "libraries": libraries,
                               "sources": sorted(sources)}, indent=1))


def main() -> int:
    out, which, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    linecache.updatecache = _recording(linecache.updatecache, lambda filename, *_: filename)
    inspect.findsource = _recording(inspect.findsource, inspect.getfile)
    atexit.register(dump, out)
    if which == "gui":
        sys.argv = ["affecttrace-gui", *argv]
        from app.launch import main as gui

        return gui()
    from core.cli.main import main as cli

    return cli(argv)


if __name__ == "__main__":
    sys.exit(main())
