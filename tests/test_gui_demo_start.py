"""The demo's first start does not block the window: the demo is made in a worker thread with its progress
in the status bar and on the start page, the event loop runs meanwhile, and the demo opens when made;
quitting during the generation stops it and leaves no half-made demo."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from tests.gui_support import make_window

pytestmark = pytest.mark.gui


@pytest.fixture
def demo_here(tmp_path, monkeypatch) -> Path:
    import app.project_control as pc

    folder = tmp_path / "data" / "demo"
    monkeypatch.setattr(pc, "demo_folder", lambda: folder)
    monkeypatch.setenv("AFFECTTRACE_DEMO_SECONDS", "8")
    return folder


def test_first_demo_start_is_made_in_the_background_with_progress(qtbot, tmp_path, demo_here) -> None:
    win = make_window(qtbot, tmp_path)
    ticks: list[bool] = []  # the event loop's turns while the demo is made (a blocked window has none)
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(win.projects.demo_maker is not None and win.projects.demo_maker.busy))
    timer.start(20)
    values: list[int] = []
    assert win.projects.open_demo(wait=False)
    maker = win.projects.demo_maker
    assert maker is not None and maker.busy and win.session.project is None
    assert maker.bar.isVisible() and "Making the demo project" in win.views.start_page.message.text()
    maker.bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(maker.ready, timeout=180000):
        pass
    timer.stop()
    assert sum(ticks) >= 5, "the window kept handling events while the demo was made"
    assert values and max(values) > 0, "the bar showed the generation's progress"
    qtbot.waitUntil(lambda: win.session.project is not None, timeout=30000)
    assert Path(win.session.project.folder) == demo_here and list(win.session.project.videos) == ["demo"]
    assert not maker.bar.isVisible() and not win.views.start_page.isVisible()
    assert win.errors == []
    win.close()


def test_quitting_while_the_demo_is_made_leaves_none(qtbot, tmp_path, demo_here) -> None:
    win = make_window(qtbot, tmp_path)
    win.projects.open_demo(wait=False)
    maker = win.projects.demo_maker
    qtbot.waitUntil(lambda: maker.bar.maximum() > 0 and maker.bar.value() > 0, timeout=120000)
    maker.shutdown()
    assert not maker.busy and not demo_here.exists()
    assert win.session.project is None
    win.close()
