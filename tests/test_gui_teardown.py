"""GUI test teardown: a closed window leaves no Qt object behind for a worker thread's garbage collection
to free off the GUI thread (the fatal signals once seen in topLevelWidgets() under load)."""
from __future__ import annotations

import gc

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication

from tests.gui_support import demo_window, free_qt_garbage, play_until

pytestmark = pytest.mark.gui


def test_the_collector_is_off_while_a_gui_test_runs(qtbot):
    assert not gc.isenabled(), "only the GUI thread may collect Qt objects (conftest turns it on afterwards)"


def test_a_closed_window_leaves_no_widget_behind(qtbot, tmp_path, tmp_path_factory):
    free_qt_garbage()
    before = {id(w) for w in QApplication.topLevelWidgets()}
    w = demo_window(qtbot, tmp_path, tmp_path_factory, keyboard=False)
    play_until(qtbot, w, 10)  # the decoder thread and the plots have run
    made = [x for x in QApplication.topLevelWidgets() if id(x) not in before]
    assert any(x.parent() is None and x is not w for x in made), "pyqtgraph's parentless menus exist"
    del made
    w.close()
    w.deleteLater()
    del w
    free_qt_garbage()
    left = [x for x in QApplication.topLevelWidgets() if shiboken6.isValid(x)]
    assert len(left) <= len(before), [type(x).__name__ for x in left]


def test_the_app_collects_only_on_the_gui_thread(qtbot):
    from PySide6.QtCore import QObject, Qt, QThread
    from PySide6.QtWidgets import QMenu

    from app.gui_gc import GuiThreadCollector

    gc.enable()  # as in the app before the collector starts
    try:
        owner = QObject()
        collector = GuiThreadCollector(owner, interval_ms=20)
        assert not gc.isenabled(), "no thread collects on its own while the app runs"
        freed_on_gui: list[bool] = []

        class Cycle:
            pass

        c = Cycle()
        c.menu, c.me = QMenu(), c  # a parentless pyqtgraph-like menu kept only by a cycle
        c.menu.destroyed.connect(lambda *_: freed_on_gui.append(QThread.isMainThread()), Qt.DirectConnection)
        del c
        junk = [[i] for i in range(3 * gc.get_threshold()[0])]  # allocations past the first threshold
        qtbot.waitUntil(lambda: bool(freed_on_gui), timeout=5000)
        del junk
        assert freed_on_gui == [True]
        collector.stop()
        assert gc.isenabled()
    finally:
        gc.disable()  # the GUI tests' own state (conftest collects after the test)


def test_a_stopped_decoder_never_calls_its_player_back():
    """The player joins its decoder for 2 s only; a decoder still inside a slow read then must not reach the
    player (deleted with its window) when the read ends."""
    import threading

    import numpy as np

    from app.player.decoder import DecodeWorker

    inside, release = threading.Event(), threading.Event()

    class SlowSource:
        def __len__(self) -> int:
            return 10

        def frame(self, i: int) -> np.ndarray:
            inside.set()
            release.wait(10)
            return np.zeros((4, 4, 3), np.uint8)

        def iter_frames(self, start: int = 0, stop: int | None = None):
            return iter(())

        def close(self) -> None:
            pass

    calls: list[tuple] = []
    w = DecodeWorker(SlowSource, on_still=lambda *a: calls.append(a), on_error=lambda m: calls.append((m,)))
    w.start()
    w.request(3, serial=1)
    assert inside.wait(10)
    w.stop()
    release.set()
    w.join(10)
    assert not w.is_alive()
    assert calls == []
