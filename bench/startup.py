"""Command-line start-up benchmark: wall time of `affecttrace --version` and `affecttrace info CLIP`,
each run in a fresh process, in the development install and (when given) the packaged build.

    python bench/startup.py [--runs 7] [--clip VIDEO] [--exe dist/AffectTrace/affecttrace ...]

Without --exe it times the development install's `affecttrace` (beside this Python). Each --exe adds
an executable (the packaged build in dist/, or /usr/bin/affecttrace once the .deb is installed).
CLIP defaults to ../shared/data/single_face.mp4 (a 2.4 s 640x360 H.264 clip with audio), else a
3 s demo video made with `affecttrace demo`. Every run gets a fresh throw-away HOME and also lists
the heavy modules the Python process imported (development install only: cv2, pandas, torch,
PySide6). Prints JSON (median and best wall time and the median CPU time per command and install,
the machine's load), then one
summary line against the targets (issue 18: --version < 0.3 s, info < 0.6 s, medians).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AFFECTTRACE_SHARED_DATA", ROOT.parent / "shared" / "data"))
TARGETS_S = {"--version": 0.3, "info": 0.6}
HEAVY = ("cv2", "pandas", "torch", "PySide6", "scipy", "sklearn")


def timed(argv: list[str], home: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run; CPU time says less about a loaded machine."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def heavy_imports(args: list[str]) -> list[str]:
    """The heavy modules the development install's CLI imports for ``args``."""
    code = ("import sys; sys.argv = ['affecttrace', *sys.argv[1:]]\n"
            "from core.cli.main import main\n"
            "try:\n    main()\nfinally:\n"
            f"    print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    return json.loads(out.stderr.strip().splitlines()[-1].replace("'", '"'))


def demo_clip(folder: Path) -> Path:
    exe = Path(sys.executable).with_name("affecttrace")
    subprocess.run([str(exe), "demo", str(folder / "demo"), "--duration", "3"], check=True,
                   stdout=subprocess.DEVNULL)
    return next((folder / "demo" / "media").glob("*.mp4"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--clip", type=Path, default=None)
    ap.add_argument("--exe", action="append", default=[], help="another affecttrace executable (repeatable)")
    ap.add_argument("--no-dev", action="store_true", help="time only the --exe executables")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="affecttrace-startup-") as tmp:
        work = Path(tmp)
        clip = args.clip or (SHARED / "single_face.mp4" if (SHARED / "single_face.mp4").is_file() else demo_clip(work))
        installs = {} if args.no_dev else {"dev": str(Path(sys.executable).with_name("affecttrace"))}
        installs.update({exe: str(Path(exe).resolve()) for exe in args.exe})
        commands = {"--version": ["--version"], "info": ["info", str(clip.resolve())]}
        results: dict[str, dict[str, dict[str, object]]] = {}
        for install, exe in installs.items():
            results[install] = {}
            for name, argv in commands.items():
                times, cpu = [], []
                for i in range(args.runs + 1):  # the first run warms the page cache, untimed
                    home = work / f"home-{i}"
                    home.mkdir()
                    wall, used = timed([exe, *argv], home)
                    shutil.rmtree(home)
                    if i:
                        times.append(wall)
                        cpu.append(used)
                row: dict[str, object] = {"median_s": round(statistics.median(times), 3),
                                          "best_s": round(min(times), 3), "runs": len(times),
                                          "cpu_median_s": round(statistics.median(cpu), 3),
                                          "target_s": TARGETS_S[name]}
                if install == "dev":
                    row["heavy_imports"] = heavy_imports(argv)
                results[install][name] = row
    out = {"clip": str(clip), "machine": platform.node(), "cpus": os.cpu_count(),
           "load_average": [round(x, 2) for x in os.getloadavg()], "results": results}
    print(json.dumps(out, indent=2))
    parts, ok = [], True
    for install, rows in results.items():
        for name, row in rows.items():
            met = float(str(row["median_s"])) < TARGETS_S[name]
            ok &= met
            parts.append(f"{install} {name} {row['median_s']} s (CPU {row['cpu_median_s']} s){'' if met else ' over'}")
    print(f"startup: {'; '.join(parts)}; targets --version < 0.3 s, info < 0.6 s: "
          f"{'met' if ok else 'NOT met'} (load {out['load_average'][0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
