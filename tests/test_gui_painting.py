"""Expression and AU labels by keys: taps, holds while playing, in/out range fills, undo/redo."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core.labels import AU_MISSING, EXPR_MISSING
from tests.gui_support import keyboard_win, play_until, wait_frame  # noqa: F401 (keyboard_win: the win fixture)

pytestmark = pytest.mark.gui



def _go(qtbot, win, i: int) -> None:
    win.player.seek(i)
    wait_frame(qtbot, win, i)


def test_expression_tap_range_fill_undo_redo(qtbot, win):
    s = win.session
    _go(qtbot, win, 5)
    QTest.keyClick(win.views.video, Qt.Key_3)  # Disgust on the shown frame
    t = s.track()
    assert t.expr[5] == 2 and (t.expr != EXPR_MISSING).sum() == 1
    assert t.labelled("expr")[5]
    _go(qtbot, win, 10)
    QTest.keyClick(win.views.video, Qt.Key_I)
    _go(qtbot, win, 20)
    QTest.keyClick(win.views.video, Qt.Key_O)
    assert win.annot.marked_range() == (10, 21)
    QTest.keyClick(win.views.video, Qt.Key_Exclam, Qt.ShiftModifier)  # Shift+1: fill with Neutral... as typed
    QTest.keyClick(win.views.video, Qt.Key_5, Qt.ShiftModifier)  # Shift+5: Happiness over in..out
    assert (t.expr[10:21] == 4).all() and t.expr[9] == EXPR_MISSING and t.expr[21] == EXPR_MISSING
    n = s.stack.count()
    s.stack.undo()
    assert (t.expr[10:21] == 0).all(), "undo goes back one fill (the Shift+1 fill before it)"
    s.stack.undo()
    assert (t.expr[10:21] == EXPR_MISSING).all()
    s.stack.redo()
    s.stack.redo()
    assert (t.expr[10:21] == 4).all() and s.stack.count() == n
    # the panel shows the shown frame's label
    _go(qtbot, win, 15)
    assert win.views.expr_panel.current.text().endswith("Happiness")


def test_hold_expression_key_while_playing_paints_each_shown_frame(qtbot, win):
    s = win.session
    _go(qtbot, win, 40)
    n = s.stack.count()
    QTest.keyPress(win.views.video, Qt.Key_7)  # Surprise, held
    play_until(qtbot, win, 90)
    QTest.keyRelease(win.views.video, Qt.Key_7)
    t = s.track()
    painted = np.flatnonzero(t.expr != EXPR_MISSING)
    assert painted[0] == 40 and painted.tolist() == list(range(40, painted[-1] + 1)) and painted[-1] >= 90
    assert (t.expr[painted] == 6).all()
    assert s.stack.count() == n + 1, "one hold = one undo step"
    s.stack.undo()
    assert (t.expr == EXPR_MISSING).all()


def test_au_toggle_absent_default_intensity_and_fill(qtbot, win):
    s = win.session
    aus = win.views.au_panel.aus
    assert len(aus) == len(s.project.au_set.aus) and aus == tuple(s.project.au_set.aus)
    assert win.views.au_panel.buttons[0].toolTip().startswith(f"{aus[0]}: ")
    _go(qtbot, win, 12)
    QTest.keyClick(win.views.video, Qt.Key_W)  # second AU of the set: present
    t = s.track()
    assert t.au[12, 1] == 1
    others = [k for k in range(len(aus)) if k != 1]
    assert (t.au[12, others] == 0).all(), "the other AUs count as absent once one is marked"
    assert t.labelled("au")[12]
    QTest.keyClick(win.views.video, Qt.Key_W)  # a second tap toggles it off
    assert t.au[12, 1] == 0
    win.views.au_panel.intensity.setValue(3)
    _go(qtbot, win, 30)
    QTest.keyClick(win.views.video, Qt.Key_I)
    _go(qtbot, win, 45)
    QTest.keyClick(win.views.video, Qt.Key_O)
    QTest.keyClick(win.views.video, Qt.Key_Q, Qt.ShiftModifier)  # first AU present over in..out
    assert (t.au[30:46, 0] == 1).all() and t.au[29, 0] == AU_MISSING and t.au[46, 0] == AU_MISSING
    assert (t.au_intensity[30:46, 0] == 3).all()
    s.stack.undo()
    assert (t.au[30:46] == AU_MISSING).all()


def test_hold_au_key_while_playing(qtbot, win):
    _go(qtbot, win, 60)
    QTest.keyPress(win.views.video, Qt.Key_E)  # third AU held
    play_until(qtbot, win, 100)
    QTest.keyRelease(win.views.video, Qt.Key_E)
    t = win.session.track()
    on = np.flatnonzero(t.au[:, 2] == 1)
    assert on[0] == 60 and on.tolist() == list(range(60, on[-1] + 1)) and on[-1] >= 100


def test_keys_do_nothing_on_a_read_only_project(qtbot, win):
    win.session.project.readonly = True  # as if another process held the lock
    _go(qtbot, win, 3)
    QTest.keyClick(win.views.video, Qt.Key_2)
    assert win.session.track(create=False) is None or (win.session.track(create=False).expr == EXPR_MISSING).all()
    win.session.project.readonly = False
