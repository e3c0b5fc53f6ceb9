"""Shared fixtures. Real media live in ../shared/data beside the checkout (skipped where absent)."""
from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("AFFECTTRACE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real face media; the test is skipped where it is absent."""
    if not (SHARED_DATA / "single_face.mp4").exists():
        pytest.skip(f"real media folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def cli(capsys):
    """Run ``affecttrace ARGS`` in this process: (exit status, stdout, stderr)."""
    from core.cli.main import main

    def go(*argv: object) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return go


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """GUI tests: Python's cyclic collector stays off while the test runs and is run here, on the GUI
    thread, once the test is over (its windows closed and its fixtures' references dropped). Otherwise a
    collection triggered by any worker thread (the player's decoder, a Background task, a job watcher)
    frees the Python-owned Qt objects of closed windows (pyqtgraph's parentless menus) on that thread
    while the GUI thread walks the same widget lists: the fatal signals seen in topLevelWidgets()."""
    names = getattr(item, "fixturenames", ())
    if "qtbot" not in names and "qapp" not in names:
        yield
        return
    from tests.gui_support import free_qt_garbage

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        free_qt_garbage()
        if was_enabled:
            gc.enable()
