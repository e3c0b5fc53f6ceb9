"""Keyboard shortcuts: one registry; no two actions share a key (nor take a held annotation key); every
shortcut the sheet advertises triggers its action when its keys are pressed (real key events)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from app.keys import held_keys
from tests.gui_support import keyboard_win, top_levels  # noqa: F401 (keyboard_win: the win fixture)

pytestmark = pytest.mark.gui



def _press(widget, seq: str) -> None:
    combo = QKeySequence(seq)[0]
    QTest.keyClick(widget, combo.key(), combo.keyboardModifiers())


def test_no_two_actions_share_a_shortcut(win):
    seen: dict[str, str] = {}
    held = {QKeySequence(k).toString(QKeySequence.PortableText) for k in held_keys()}
    for e in win.registry.entries():
        keys = [s.toString(QKeySequence.PortableText) for s in e.action.shortcuts()]
        assert keys == list(e.shortcuts), f"{e.key}: the action has the registered shortcuts"
        for k in keys:
            assert k not in seen, f"{k} is used by {seen.get(k)} and {e.key}"
            assert k not in held, f"{k} of {e.key} is a held annotation key"
            seen[k] = e.key
    assert {"Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Y"} <= set(seen)
    with pytest.raises(ValueError, match="already used"):
        win.registry.add("again", "Again", None, "Ctrl+Y")
    with pytest.raises(ValueError, match="already used"):
        win.registry.add("digit", "Digit", None, "5")


def test_every_advertised_shortcut_triggers_its_action(qtbot, win):
    rows = win.registry.shortcut_rows()
    advertised = {k for _m, keys, _t in rows for k in keys.split(" / ")}
    entries = [e for e in win.registry.entries() if e.shortcuts]
    assert advertised == {k for e in entries for k in e.shortcuts}
    fired: list[str] = []
    for e in entries:  # count triggers only: Quit, Open... must not really run here
        e.action.triggered.disconnect()
        e.action.triggered.connect(lambda _on=False, key=e.key: fired.append(key))
        e.action.setEnabled(True)  # undo/redo are disabled with nothing to undo; their keys are still theirs
    for e in entries:
        for seq in e.shortcuts:
            fired.clear()
            _press(win.views.video, seq)
            assert fired == [e.key], f"{seq} should trigger {e.key}, triggered {fired}"


def test_undo_and_redo_by_every_key(qtbot, win):
    s = win.session
    s.push(s.set_labels("expr", 10, 20, 3))
    t = s.track()
    for redo in ("Ctrl+Shift+Z", "Ctrl+Y"):
        _press(win.views.video, "Ctrl+Z")
        assert (t.expr[10:20] == -1).all()
        _press(win.views.video, redo)
        assert (t.expr[10:20] == 3).all(), f"{redo} redoes"


def test_shortcuts_sheet_lists_the_registry(qtbot, win):
    win.show_shortcuts()
    from PySide6.QtWidgets import QDialog, QTableWidget

    [sheet] = [d for d in win.findChildren(QDialog) if d.isVisible()]
    assert sheet in top_levels(QDialog), "the sheet is a window of its own"
    table = sheet.findChild(QTableWidget)
    keys = {table.item(r, 0).text() for r in range(table.rowCount())}
    for _menu, k, _text in win.registry.shortcut_rows():
        assert k in keys
    assert "1-8 (hold)" in keys and f"{'Q'} (hold)" in keys
    sheet.close()


def test_an_added_module_action_and_dock(qtbot, win):
    """The extension points other modules use: a menu before Help, an action with a free shortcut, a dock."""
    from PySide6.QtWidgets import QLabel

    fired = []
    a = win.registry.add("engine_test", "Engine thing", lambda: fired.append(1), "Ctrl+Shift+E", "Engine")
    titles = [m.text().replace("&", "") for m in win.menuBar().actions()]
    assert titles.index("Engine") < titles.index("Help")
    _press(win.views.video, "Ctrl+Shift+E")
    assert fired == [1] and a in win.registry.menu("Engine").actions()
    d = win.add_dock(QLabel("engine"), "Engine", "dock_engine", Qt.RightDockWidgetArea, tabify_with="dock_au")
    assert d.toggleViewAction() in win.menus.panels.actions()
    with pytest.raises(ValueError):
        win.add_dock(QLabel("again"), "Again", "dock_engine")


def test_after_the_joystick_the_video_takes_the_keys_back(qtbot, win):
    """The focused joystick takes the plain and Shift arrows (they move its point); Ctrl+arrows still jump,
    and a click on the picture gives every playback key back (a mouse drag on the stick left the transport
    deaf to the arrows, and clicking the video did not help)."""
    from PySide6.QtWidgets import QApplication

    from tests.gui_support import wait_frame

    joy, p = win.views.joystick, win.player
    fps = round(float(p.fps))
    qtbot.mouseClick(joy, Qt.LeftButton, pos=joy.rect().center())
    assert QApplication.focusWidget() is joy
    before = joy.value()
    _press(QApplication.focusWidget(), "Shift+Right")
    assert joy.value()[0] > before[0] and p.position == 0  # the stick moved, not the video
    _press(QApplication.focusWidget(), "Ctrl+Right")
    wait_frame(qtbot, win, 5 * fps)
    qtbot.mouseClick(win.views.video, Qt.LeftButton)
    assert QApplication.focusWidget() is win.views.video
    _press(QApplication.focusWidget(), "Shift+Right")
    wait_frame(qtbot, win, 6 * fps)
