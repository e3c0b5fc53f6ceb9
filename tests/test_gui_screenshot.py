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


def test_bad_path_shows_the_start_page_and_says_so(tmp_path, qapp):
    r = _run([str(tmp_path / "nothing-here"), "--screenshot", str(tmp_path / "x.png")], tmp_path)
    assert r.returncode == 1 and "nothing-here: no such project or video" in r.stderr
    assert "Traceback" not in r.stderr
    assert _size(tmp_path / "x.png") == (1440, 900), "a picture of the start page"


def _size(path: Path) -> tuple[int, int]:
    from PySide6.QtGui import QImage

    img = QImage(str(path))
    return img.width(), img.height()


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_damaged_track_file_is_reported_and_the_picture_made(tmp_path, tmp_path_factory, qapp, damage):
    """A track file gone or cut short: one line naming it, the other tracks shown, exit status 1, no
    traceback, no wait for the 120 s guard."""
    demo = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")
    from core.project import Project

    with Project.open(demo, readonly=True) as p:
        victim = p.folder / p.track_entry("demo", "ann3").file
    if damage == "missing":
        victim.unlink()
    else:
        data = victim.read_bytes()
        victim.write_bytes(data[: len(data) // 3])
    out = tmp_path / "shot.png"
    r = _run([str(demo), "--screenshot", str(out), "--size", "1280x800"], tmp_path)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "gave up" not in r.stderr
    assert str(victim.name) in r.stderr
    assert _size(out) == (1280, 800)
    _check_image(out)


def test_screenshot_has_the_size_asked_for(tmp_path, tmp_path_factory, qapp):
    """The window never grows past the size asked for (it used to become 1589 px wide)."""
    demo = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")
    out = tmp_path / "dark.png"
    r = _run([str(demo), "--screenshot", str(out), "--size", "1280x800", "--theme", "dark"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert _size(out) == (1280, 800)
