"""Labels change only when meant (offscreen twins of tests/realwindow/, which drive a real X window):
fields own their keys, Home centres a focused joystick, clearing the marks ends the loop, a loop never
pulls playback into its range, command-line options hold for one start."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from tests.gui_support import keyboard_win, wait_frame  # noqa: F401 (keyboard_win: the win fixture)

pytestmark = pytest.mark.gui

TYPED = (Qt.Key_4, Qt.Key_0, Qt.Key_Q, Qt.Key_Return, Qt.Key_Home, Qt.Key_End, Qt.Key_Backspace, Qt.Key_Right,
         Qt.Key_Space, Qt.Key_N)


def _labelled(win) -> int:
    t = win.session.track(create=False)
    if t is None:
        return 0
    return int(t.labelled("va").sum() + (t.expr >= 0).sum() + (t.au >= 0).sum())


@pytest.mark.parametrize("field", ["max_lag", "intensity"])
def test_a_number_field_owns_its_keys(qtbot, win, field):
    win.player.seek(100)
    wait_frame(qtbot, win, 100)
    win.annot.set_in(90)
    win.annot.set_out(110)
    box = win.views.agreement.max_lag if field == "max_lag" else win.views.au_panel.intensity
    dock = win.views.docks["dock_agreement" if field == "max_lag" else "dock_au"]
    dock.show()
    dock.raise_()
    qtbot.waitUntil(box.isVisible)
    QTest.mouseClick(box.lineEdit(), Qt.LeftButton)
    assert box.hasFocus(), "a click gives the field the keyboard"
    for key in TYPED:
        QTest.keyClick(box, key)
    QTest.keyClick(box, Qt.Key_4, Qt.ShiftModifier)
    assert _labelled(win) == 0 and win.session.stack.count() == 0, "typing labelled the video"
    assert win.player.position == 100 and not win.player.playing
    QTest.keyClick(box, Qt.Key_Escape)
    assert win.views.video.hasFocus(), "Esc gives the keys back to the video"
    assert (win.annot.mark_in, win.annot.mark_out) == (90, 110), "Esc in a field is not Clear marks"


def test_home_centres_the_focused_joystick(qtbot, win):
    js = win.views.joystick
    win.player.seek(50)
    wait_frame(qtbot, win, 50)
    js.set_value(0.5, -0.4)
    js.setFocus()
    QTest.keyClick(js, Qt.Key_Home)
    assert js.value().tolist() == [0.0, 0.0]
    assert win.player.position == 50, "Home went to the first frame"


def test_clearing_the_marks_ends_the_loop(qtbot, win):
    win.annot.set_in(20)
    win.annot.set_out(40)
    win.registry["loop"].trigger()
    assert win.player.loop == (20, 40) and win.registry["loop"].isChecked()
    QTest.keyClick(win.views.video, Qt.Key_Escape)
    assert win.player.loop is None and not win.registry["loop"].isChecked()
    assert not win.views.transport.loop.isChecked()


def test_a_loop_never_pulls_a_pass_into_its_range(qtbot, win):
    p = win.player
    win.annot.set_in(20)
    win.annot.set_out(30)
    win.controls.toggle_loop(True)
    p.seek(200)
    wait_frame(qtbot, win, 200)
    shown: list[int] = []
    p.frameShown.connect(lambda i, _c: shown.append(i))
    win.annot.set_armed(True)
    p.play()
    qtbot.waitUntil(lambda: p.current >= 215 or any(20 <= i <= 30 for i in shown), timeout=30000)
    p.pause()
    win.annot.set_armed(False)
    assert not any(20 <= i <= 30 for i in shown), "playback jumped into the loop's range"
    va = win.session.track().labelled("va")
    assert not va[20:31].any() and va[200], "the pass wrote from the frame it started at, not the loop"
    assert np.flatnonzero(va)[0] == 200


def test_command_line_options_hold_for_one_start(tmp_path):
    from app.settings import Settings

    ini = str(tmp_path / "s.ini")
    s = Settings(QSettings(ini, QSettings.IniFormat))
    s.use_for_this_start(annotator="cli", theme="dark")
    assert (s.annotator, s.theme) == ("cli", "dark")
    s.sync()
    later = Settings(QSettings(ini, QSettings.IniFormat))
    assert later.remembered_annotator() == "" and later.annotator == "" and later.theme == "light"
    s.annotator = "chosen"  # a choice made in the app replaces the command line's and is saved
    s.theme = "dark"
    s.sync()
    later = Settings(QSettings(ini, QSettings.IniFormat))
    assert (later.annotator, later.theme) == ("chosen", "dark")
