"""Joystick recording: exactly one sample per displayed frame, no gaps or duplicates, at 1x, 2x and
with frames shown late; a pass is one undo step; fill-only and single-axis modes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from app.recording import FrameSampler
from tests.gui_support import busy_wait, demo_window, play_until, wait_frame

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot, tmp_path, tmp_path_factory):
    w = demo_window(qtbot, tmp_path, tmp_path_factory, keyboard=False)
    yield w
    w.close()


def test_sampler_fills_skipped_frames_and_ignores_repeats():
    s = FrameSampler(interpolate=True)
    s.add(10, [0.0, 0.0])
    s.add(10, [0.9, 0.9])  # shown again: no second sample
    s.add(11, [0.1, -0.1])
    s.add(14, [0.4, -0.4])  # 12 and 13 were skipped: interpolated
    s.add(3, [1.0, 1.0], contiguous=False)  # a seek: a new run
    runs = s.take()
    assert [(a, len(v)) for a, v in runs] == [(10, 5), (3, 1)]
    np.testing.assert_allclose(runs[0][1][:, 0], [0.0, 0.1, 0.2, 0.3, 0.4], atol=1e-6)
    assert s.filled == 2
    held = FrameSampler(interpolate=False)
    held.add(0, 4)
    held.add(3, 6)
    assert held.take()[0][1][:, 0].tolist() == [4, 4, 4, 6]


def _stick_driver(qtbot, win):
    """Move the joystick continuously from a timer, like a hand on a gamepad."""
    import time

    from PySide6.QtCore import QTimer

    t0 = time.perf_counter()
    timer = QTimer(win)
    timer.setInterval(5)
    timer.timeout.connect(lambda: win.views.joystick.set_value(math.sin((time.perf_counter() - t0) * 3) * 0.8,
                                                         math.cos((time.perf_counter() - t0) * 2) * 0.6))
    timer.start()
    return timer


def _record_pass(qtbot, win, start: int, stop: int, late_every: int = 0):
    """Arm, play from ``start`` until ``stop`` is shown; returns {frame shown: joystick value then}."""
    p = win.player
    p.seek(start)
    wait_frame(qtbot, win, start)
    seen: dict[int, np.ndarray] = {}
    p.frameShown.connect(lambda i, c: seen.__setitem__(i, win.views.joystick.value()))
    # the frame on screen when the pass starts is its first sample (the stick's value at that moment)
    win.annot.recordingChanged.connect(lambda on: on and seen.setdefault(p.current, win.views.joystick.value()))
    if late_every:
        p.after_frame = lambda i: busy_wait(0.13) if i % late_every == 0 else None
    driver = _stick_driver(qtbot, win)
    win.annot.set_armed(True)
    n_before = win.session.stack.count()
    play_until(qtbot, win, stop)
    driver.stop()
    p.after_frame = None
    win.annot.set_armed(False)
    assert win.session.stack.count() == n_before + 1, "one recording pass is one undo step"
    return seen


def _check_exact(win, seen: dict[int, np.ndarray], start: int):
    track = win.session.track()
    shown = sorted(i for i in seen if i >= start)
    first, last = shown[0], shown[-1]
    labelled = np.flatnonzero(track.labelled("va"))
    assert labelled.tolist() == list(range(first, last + 1)), "every frame of the pass has a sample, no others"
    cmd = win.session.stack.command(win.session.stack.count() - 1)
    written = sorted(f for e in cmd.edits for f in range(e.start, e.stop))
    assert written == list(range(first, last + 1)), "no frame written twice"
    for i in shown:  # a shown frame stores exactly what the stick said when it was shown
        np.testing.assert_allclose(track.va[i], seen[i], atol=1e-6)
    assert all(e.author == "tester" for e in cmd.edits)
    return first, last


def test_one_sample_per_frame_at_1x_and_undo(qtbot, win):
    seen = _record_pass(qtbot, win, 20, 80)
    first, last = _check_exact(win, seen, 20)
    assert first == 20 and last >= 80, "a pass from a pause at frame P writes P"
    win.session.stack.undo()
    assert not win.session.track().labelled("va").any()
    win.session.stack.redo()
    assert win.session.track().labelled("va").sum() == last - first + 1


def test_exact_at_2x(qtbot, win):
    win.player.set_speed(2.0)
    seen = _record_pass(qtbot, win, 100, 220)
    first, last = _check_exact(win, seen, 100)
    assert last >= 220


def test_exact_when_frames_are_late(qtbot, win):
    seen = _record_pass(qtbot, win, 30, 140, late_every=20)
    assert win.player.stats.skipped > 0, "the forced delays made the player skip frames"
    first, last = _check_exact(win, seen, 30)
    track = win.session.track()
    skipped = [i for i in range(first, last + 1) if i not in seen]
    assert skipped
    for i in skipped:  # filled between the neighbouring shown frames
        lo = max(j for j in seen if j < i)
        hi = min(j for j in seen if j > i)
        w = (i - lo) / (hi - lo)
        np.testing.assert_allclose(track.va[i], seen[lo] + (seen[hi] - seen[lo]) * w, atol=1e-5)


def test_fill_only_unlabelled_and_single_axis(qtbot, win):
    s = win.session
    s.push(s.set_labels("va", 50, 60, [0.5, 0.5]))
    win.controls.set_fill_only(True)
    win.controls.set_joystick_mode("valence")
    _record_pass(qtbot, win, 40, 90)
    track = s.track()
    np.testing.assert_allclose(track.va[50:60], 0.5)  # kept
    assert np.isnan(track.va[70:85, 1]).all()  # valence-only pass leaves arousal alone
    assert not np.isnan(track.va[70:85, 0]).any()
