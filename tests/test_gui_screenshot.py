"""`python main.py [PROJECT] --screenshot OUT.png` renders a useful window and exits; with no project
it makes the demo project in the per-user data folder first. Start-up never imports torch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.gui_support import demo_copy

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], home: Path, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_DATA_HOME": str(home / "data"), **(extra_env or {})}
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def _check_image(path: Path) -> np.ndarray:
    from PySide6.QtGui import QImage

    assert path.exists() and path.stat().st_size > 20_000
    img = QImage(str(path)).convertToFormat(QImage.Format_RGB888)
    assert img.width() >= 1200 and img.height() >= 700
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, : img.width() * 3]
    a = a.reshape(img.height(), img.width(), 3)
    assert a.std() > 20, "not a blank image"
    assert len(np.unique(a[::4, ::4].reshape(-1, 3), axis=0)) > 500, "video, curves and widgets drawn"
    return a


def test_screenshot_of_a_project(tmp_path, tmp_path_factory, qapp):
    demo = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")
    out = tmp_path / "shots" / "main.png"
    r = _run([str(demo), "--screenshot", str(out), "--timing"], tmp_path)
    assert r.returncode == 0, r.stderr
    timing = json.loads(r.stdout.strip().splitlines()[-1])
    assert timing["torch_imported"] is False
    _check_image(out)


def test_no_argument_makes_the_demo_in_the_data_folder(tmp_path, qapp):
    out = tmp_path / "demo.png"
    r = _run(["--screenshot", str(out), "--theme", "dark"], tmp_path, {"AFFECTTRACE_DEMO_SECONDS": "12"})
    assert r.returncode == 0, r.stderr
    made = list((tmp_path / "data").rglob("project.json"))
    assert len(made) == 1 and made[0].parent.name == "demo"
    _check_image(out)


def test_bad_path_fails_cleanly(tmp_path):
    r = _run([str(tmp_path / "nothing-here"), "--screenshot", str(tmp_path / "x.png")], tmp_path)
    assert r.returncode == 1 and "no such project or video" in (r.stderr + r.stdout)
    assert not (tmp_path / "x.png").exists()
