"""Helpers shared by the GUI tests (tests/test_gui_*.py): a short demo project and a window on it."""
from __future__ import annotations

import gc
import os
import shutil
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DEMO_SECONDS = 20.0
_TEMPLATE: dict[str, Path] = {}


def demo_copy(tmp_root: Path, dest: Path) -> Path:
    """A fresh copy of a 20 s demo project (generated once per test session under ``tmp_root``)."""
    from core.demo import create_demo

    tpl = _TEMPLATE.get("demo")
    if tpl is None or not tpl.exists():
        tpl = tmp_root / "demo_template"
        if not (tpl / "project.json").exists():
            create_demo(tpl, duration_s=DEMO_SECONDS).close()
        _TEMPLATE["demo"] = tpl
    shutil.copytree(tpl, dest, ignore=shutil.ignore_patterns(".lock", "lock.json"))
    return dest


def make_window(qtbot, tmp_path: Path, folder: Path | None = None, annotator: str = "tester"):
    """A MainWindow with its own settings file, not asking anything; opens ``folder`` when given."""
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from app.settings import Settings

    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    if annotator:
        settings.annotator = annotator
    win = MainWindow(settings, interactive=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    if folder is not None:
        assert win.open_project(folder)
        wait_frame(qtbot, win, 0)
    return win


def demo_window(qtbot, tmp_path: Path, tmp_path_factory, keyboard: bool = True):
    """A window on a fresh demo copy, playing on the wall clock (no sound card here); with ``keyboard``
    it is the active window and the video has focus, so real key events reach the shortcuts."""
    folder = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")
    w = make_window(qtbot, tmp_path, folder)
    w.player.set_use_audio(False)
    if keyboard:
        w.activateWindow()
        qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=5000)
        w.views.video.setFocus()
    return w


@pytest.fixture(name="win")
def keyboard_win(qtbot, tmp_path: Path, tmp_path_factory):
    """The ``win`` fixture of the keyboard tests: ``demo_window`` with the keyboard, closed afterwards."""
    w = demo_window(qtbot, tmp_path, tmp_path_factory)
    yield w
    w.close()


def top_levels(kind: type) -> list:
    """The shown top-level widgets of ``kind`` whose C++ object still exists. Only widgets of ``kind`` are
    asked anything (other windows, maybe being deleted, are never touched); a test that knows the owner
    window asks it instead (``win.findChildren``)."""
    import shiboken6
    from PySide6.QtWidgets import QApplication

    mine = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind)]  # the type: no call into C++
    return [w for w in mine if shiboken6.isValid(w) and w.isVisible()]


def free_qt_garbage() -> None:
    """Delete what closed windows left (deferred deletes, then the Python-owned Qt objects in reference
    cycles, such as pyqtgraph's parentless menus) here, on the GUI thread, until nothing is left."""
    from PySide6.QtCore import QCoreApplication, QEvent

    for _ in range(5):
        if QCoreApplication.instance() is not None:
            QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
        if not gc.collect():
            break


def wait_frame(qtbot, win, i: int, timeout_ms: int = 15000) -> None:
    qtbot.waitUntil(lambda: win.player.current == i, timeout=timeout_ms)


def play_until(qtbot, win, stop: int, timeout_ms: int = 30000) -> None:
    """Play and pause exactly when frame ``stop`` (or the first frame after it) is shown."""
    p = win.player
    prev = p.after_frame

    def hook(i: int) -> None:
        if prev is not None:
            prev(i)
        if i >= stop:
            p.pause()

    p.after_frame = hook
    p.play()
    qtbot.waitUntil(lambda: not p.playing, timeout=timeout_ms)
    p.after_frame = prev


def busy_wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
