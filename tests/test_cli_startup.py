"""The command line's start: a command loads its own module only, `--version` none; torch's compiler
cache stays in the user's cache folder (issue 18)."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main as cli_main

from .nn_demo import make_demo_project
from .videogen import make_video

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("cv2", "pandas", "torch", "PySide6", "scipy", "sklearn", "h5py")


def _registered(module: str) -> set[str]:
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module).register(sub)
    return set(sub.choices)


def test_command_table_names_every_command_of_every_module() -> None:
    table = {name: module for module in cli_main.COMMANDS for name in _registered(module)}
    assert cli_main.COMMAND_MODULES == table


def _modules_after(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, list[str], str]:
    """Run the CLI on ``argv`` in a fresh interpreter: exit status, modules loaded, stdout."""
    code = ("import json, sys\nfrom core.cli.main import main\ncode = main(sys.argv[1:])\n"
            "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\nsys.exit(code)")
    out = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, timeout=120)
    return out.returncode, json.loads(out.stderr.strip().splitlines()[-1]), out.stdout


def test_version_loads_no_command_module_and_nothing_heavy() -> None:
    code, modules, out = _modules_after(["--version"])
    assert code == 0 and out.startswith("affecttrace ")
    assert [m for m in modules if m.split(".")[0] in HEAVY or m.startswith("numpy")] == []
    assert [m for m in modules if m in cli_main.COMMANDS] == []


def test_info_on_a_video_loads_its_command_only(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "clip.mp4", n=12)
    code, modules, out = _modules_after(["info", str(clip), "--json"])
    assert code == 0 and json.loads(out)["frame_count"] == 12
    assert [m for m in modules if m in cli_main.COMMANDS] == ["core.cli.media_cmds"]
    assert [m for m in modules if m.split(".")[0] in HEAVY] == []


def test_unknown_command_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main.main(["no-such-command"])
    err = capsys.readouterr().err
    assert "invalid choice" in err and all(f"'{name}'" in err for name in cli_main.COMMAND_MODULES)


@pytest.mark.slow
def test_training_keeps_torch_compile_cache_in_the_user_cache_folder(tmp_path: Path) -> None:
    project = make_demo_project(tmp_path, seconds=2.0)
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {"HOME": str(home), "TMPDIR": str(tmp)}
    clean = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "TORCHINDUCTOR_CACHE_DIR")}
    out = subprocess.run([sys.executable, "-m", "core.cli", "train", str(project), "--preset", "mt-tiny",
                          "--label-track", "truth", "--epochs", "1", "--max-steps", "2", "--device", "cpu"],
                         cwd=ROOT, capture_output=True, text=True, env={**clean, **env}, timeout=600)
    assert out.returncode == 0, out.stderr
    assert list(tmp.iterdir()) == []  # no torchinductor_<user> in the temporary folder
    assert (home / ".cache" / "affecttrace" / "torchinductor").is_dir()
