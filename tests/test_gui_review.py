"""The review loop by keyboard, as an annotator does it: play, pause, step either way, jump, check the
label, correct, undo/redo. After every key the shown frame, the transport readout, the status bar and
the label panels describe the same frame, at 1x, at 0.25x and after a resize."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core.labels import EXPR_MISSING, EXPRESSIONS
from tests.gui_support import keyboard_win  # noqa: F401 (keyboard_win: the win fixture)

pytestmark = pytest.mark.gui



def key(win, k, mod=Qt.NoModifier) -> None:
    """A real key press and release, sent where the user types (the focused widget)."""
    QTest.keyClick(win.focusWidget() or win, k, mod)


def settle(qtbot, win) -> None:
    """Wait until the frame asked for is on screen (the player has no still pending)."""
    p = win.player
    qtbot.waitUntil(lambda: not p.playing and p.position == p.current, timeout=15000)


def assert_agree(win, i: int) -> None:
    """The picture, the transport, the status bar and the panels all describe frame ``i``."""
    p = win.player
    assert p.current == i and win.views.video.index == i
    assert win.views.transport.readout.text().split()[0] == str(i)
    assert win.views.st_frame.text().startswith(f"frame {i} ")
    t = win.session.track(create=False)
    e = EXPR_MISSING if t is None else int(t.expr[i])
    shown = win.views.expr_panel.current.text()
    assert shown == ("Frame: unlabelled" if e == EXPR_MISSING else f"Frame: {EXPRESSIONS[e]}")
    checked = [k for k, b in enumerate(win.views.expr_panel.buttons) if b.isChecked()]
    assert checked == ([] if e == EXPR_MISSING else [e])
    ex = "—" if e == EXPR_MISSING else EXPRESSIONS[e]
    assert f"expr {ex} " in win.views.st_labels.text()


def play_then_pause(qtbot, win, at_least: int) -> int:
    """Space, wait until frame ``at_least`` has been shown, Space again; returns the paused frame."""
    p = win.player
    key(win, Qt.Key_Space)
    assert p.playing
    qtbot.waitUntil(lambda: p.current >= at_least, timeout=30000)
    key(win, Qt.Key_Space)
    assert not p.playing
    settle(qtbot, win)
    return p.current


def test_step_and_jump_after_a_pause_start_from_the_paused_frame(qtbot, win):
    p = win.player
    key(win, Qt.Key_Home)
    settle(qtbot, win)
    assert_agree(win, 0)
    paused = play_then_pause(qtbot, win, 40)
    assert paused >= 40
    assert_agree(win, paused)
    key(win, Qt.Key_Right, Qt.ShiftModifier)  # +1 s
    settle(qtbot, win)
    assert_agree(win, paused + 25)
    here = p.current
    for _ in range(3):
        key(win, Qt.Key_Right)
    key(win, Qt.Key_Left)
    settle(qtbot, win)
    assert_agree(win, here + 2)
    key(win, Qt.Key_Left, Qt.ShiftModifier)  # -1 s
    settle(qtbot, win)
    assert_agree(win, here + 2 - 25)


def test_resize_while_paused_keeps_the_paused_frame(qtbot, win):
    key(win, Qt.Key_Home)
    settle(qtbot, win)
    paused = play_then_pause(qtbot, win, 30)
    key(win, Qt.Key_Right)
    settle(qtbot, win)
    assert_agree(win, paused + 1)
    size = win.views.video.size()
    win.resize(win.width() - 200, win.height() - 120)
    qtbot.waitUntil(lambda: win.views.video.size() != size, timeout=5000)
    qtbot.wait(400)  # the view decodes the shown frame again at its new size after 150 ms
    settle(qtbot, win)
    assert_agree(win, paused + 1)
    h, w = win.views.video._array.shape[:2]
    assert w <= win.views.video.width() + 1, "decoded again for the new size"
    key(win, Qt.Key_Right)
    settle(qtbot, win)
    assert_agree(win, paused + 2)


def test_keys_pressed_faster_than_decoding_land_exactly(qtbot, win):
    """Steps and jumps sent before the previous frame is decoded add up from the frame asked for."""
    key(win, Qt.Key_Home)
    settle(qtbot, win)
    for _ in range(5):
        key(win, Qt.Key_Right)
    key(win, Qt.Key_Right, Qt.ShiftModifier)
    key(win, Qt.Key_Left)
    settle(qtbot, win)
    assert_agree(win, 5 + 25 - 1)
    key(win, Qt.Key_Right, Qt.ShiftModifier)  # then play at once: playback starts from the frame asked for
    key(win, Qt.Key_Space)
    first = []
    win.player.frameShown.connect(lambda i, _c: first.append(i) if not first else None)
    qtbot.waitUntil(lambda: bool(first), timeout=15000)
    key(win, Qt.Key_Space)
    assert first[0] == 29 + 25
    settle(qtbot, win)
    assert_agree(win, win.player.current)


def test_paused_at_quarter_speed_the_panels_show_the_shown_frame(qtbot, win):
    s = win.session
    for i in range(200, 260):  # a different label on every frame
        s.push(s.set_labels("expr", i, i + 1, i % 8))
    s.push(s.clear_labels("expr", 207, 208))
    win.player.seek(200)
    settle(qtbot, win)
    key(win, Qt.Key_BracketLeft)
    key(win, Qt.Key_BracketLeft)
    key(win, Qt.Key_BracketLeft)
    assert win.player.speed == 0.25
    p = win.player
    p.after_frame = lambda i: key(win, Qt.Key_Space) if i == 207 else None  # pause right at 207
    key(win, Qt.Key_Space)
    qtbot.waitUntil(lambda: not p.playing, timeout=30000)
    p.after_frame = None
    settle(qtbot, win)
    assert_agree(win, 207)
    assert "0.25x" in win.views.st_frame.text()
    key(win, Qt.Key_Left)
    settle(qtbot, win)
    assert_agree(win, 206)
    key(win, Qt.Key_Backslash)  # normal speed, while paused: the status bar says so
    assert win.player.speed == 1.0 and "1x" in win.views.st_frame.text() and "0.25x" not in win.views.st_frame.text()


def test_check_correct_undo_redo_by_keyboard(qtbot, win):
    s = win.session
    key(win, Qt.Key_Home)
    settle(qtbot, win)
    paused = play_then_pause(qtbot, win, 20)
    key(win, Qt.Key_Right)
    settle(qtbot, win)
    here = paused + 1
    key(win, Qt.Key_5)  # Happiness on the shown frame
    assert s.track().expr[here] == 4
    assert_agree(win, here)
    key(win, Qt.Key_3)  # corrected: Disgust
    assert s.track().expr[here] == 2
    assert_agree(win, here)
    key(win, Qt.Key_Z, Qt.ControlModifier)
    assert s.track().expr[here] == 4
    assert_agree(win, here)
    key(win, Qt.Key_Z, Qt.ControlModifier)
    assert s.track().expr[here] == EXPR_MISSING
    assert_agree(win, here)
    key(win, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert s.track().expr[here] == 4
    assert_agree(win, here)
    key(win, Qt.Key_Y, Qt.ControlModifier)
    assert s.track().expr[here] == 2
    assert_agree(win, here)
    key(win, Qt.Key_Left)
    settle(qtbot, win)
    assert_agree(win, here - 1)
    assert np.count_nonzero(s.track().expr != EXPR_MISSING) == 1


def test_seek_while_playing_then_pause_at_once_lands_on_the_frame_sought(qtbot, win):
    p = win.player
    key(win, Qt.Key_Home)
    settle(qtbot, win)
    key(win, Qt.Key_Space)
    qtbot.waitUntil(lambda: p.current >= 5, timeout=15000)
    p.seek(300)  # a click on the timeline while playing ...
    key(win, Qt.Key_Space)  # ... and a pause before frame 300 was decoded
    assert p.position == 300
    settle(qtbot, win)
    assert_agree(win, 300)
    key(win, Qt.Key_Right)
    settle(qtbot, win)
    assert_agree(win, 301)


def test_loop_plays_the_marked_range_again(qtbot, win):
    p = win.player
    p.seek(100)
    settle(qtbot, win)
    key(win, Qt.Key_I)
    p.seek(120)
    settle(qtbot, win)
    key(win, Qt.Key_O)
    key(win, Qt.Key_L, Qt.ControlModifier)
    assert p.loop == (100, 120)
    shown: list[tuple[int, bool]] = []
    p.frameShown.connect(lambda i, c: shown.append((i, c)))
    p.seek(100)
    settle(qtbot, win)
    key(win, Qt.Key_Space)
    qtbot.waitUntil(lambda: sum(1 for i, c in shown if i == 100 and not c) >= 2, timeout=30000)
    key(win, Qt.Key_Space)
    assert all(100 <= i <= 120 for i, _c in shown)
    wrap = next(k for k, (i, c) in enumerate(shown) if k and i == 100 and not c)
    assert shown[wrap - 1][0] == 120, "the range's last frame shows before the wrap"
    settle(qtbot, win)
    assert_agree(win, p.current)
