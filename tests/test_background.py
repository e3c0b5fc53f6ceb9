"""app.background: the one in-process way off the GUI thread, with real worker threads: tasks of different
keys run at the same time, a newer task of a key supersedes the older one, progress and results arrive on
the GUI thread, a cancelled task's result never does, and errors are one line."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread

from app.background import Background, current_task
from core.errors import AffectTraceError

pytestmark = pytest.mark.gui


@pytest.fixture
def bg(qtbot):
    b = Background(threads=3)
    yield b
    b.shutdown()


def test_keys_run_side_by_side_and_results_arrive_on_the_gui_thread(qtbot, bg) -> None:
    both = threading.Barrier(2, timeout=20)  # passes only when the two tasks run at the same time
    got: dict[str, tuple] = {}
    gui = QThread.currentThread()

    def work(name: str) -> str:
        both.wait()
        return name

    for key in ("compare", "suggest"):
        bg.submit(lambda k=key: work(k), lambda r, e, k=key: got.__setitem__(k, (r, e, QThread.currentThread())),
                  key=key)
    assert bg.busy and bg.running("compare") is not None
    qtbot.waitUntil(lambda: len(got) == 2, timeout=20000)
    assert got["compare"][:2] == ("compare", "") and got["suggest"][:2] == ("suggest", "")
    assert all(t is gui for _r, _e, t in got.values()) and not bg.busy


def test_a_newer_task_of_a_key_supersedes_the_older(qtbot, bg) -> None:
    release, started = threading.Event(), threading.Event()
    seen_cancel: list[bool] = []
    results: list[object] = []

    def slow() -> str:
        started.set()
        release.wait(20)
        seen_cancel.append(current_task().cancelled)
        return "old"

    first = bg.submit(slow, lambda r, e: results.append(r), key="k")
    assert started.wait(20)
    second = bg.submit(lambda: "new", lambda r, e: results.append(r), key="k")
    assert first.cancelled and not second.cancelled
    qtbot.waitUntil(lambda: results == ["new"], timeout=20000)
    release.set()
    qtbot.waitUntil(lambda: seen_cancel == [True], timeout=20000)  # the old work saw it was superseded
    qtbot.wait(100)  # its result, emitted after, is dropped
    assert results == ["new"]


def test_progress_and_cancel(qtbot, bg) -> None:
    steps: list[tuple] = []
    finished: list[object] = []
    go = threading.Event()

    def counting() -> int:
        task = current_task()
        for i in range(3):
            task.progress(i + 1, 3, f"step {i + 1}")
        go.wait(20)
        return 3

    bg.submit(counting, lambda r, e: finished.append(r), key="p", progress=lambda d, t, m: steps.append((d, t, m)))
    qtbot.waitUntil(lambda: len(steps) == 3, timeout=20000)
    assert steps == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
    bg.cancel("p")  # the result is no longer wanted
    go.set()
    qtbot.wait(200)
    assert finished == [] and not bg.busy


def test_errors_are_one_line(qtbot, bg) -> None:
    out: dict[str, tuple] = {}

    def bad_input() -> None:
        raise AffectTraceError("no labels here", "/p/video.mp4")

    def odd_data() -> None:
        raise ValueError("shapes differ")

    bg.submit(bad_input, lambda r, e: out.__setitem__("a", (r, e)), key="a")
    bg.submit(odd_data, lambda r, e: out.__setitem__("b", (r, e)), key="b")
    qtbot.waitUntil(lambda: len(out) == 2, timeout=20000)
    assert out["a"] == (None, "/p/video.mp4: no labels here")
    assert out["b"] == (None, "ValueError: shapes differ")
