"""Keyboard layout of the annotation keys (held to paint) and the shortcuts sheet."""
from __future__ import annotations

from PySide6.QtCore import Qt

EXPR_KEYS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8")
EXPR_CLEAR_KEY = "0"
# Letters for the project's AUs in order; R, I, O, N, M are kept for record, in, out, next, marks.
AU_KEYS: tuple[str, ...] = tuple("QWETYUPASDFGHJKLZXCVB")

TRANSPORT_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Space", "play / pause"),
    ("Left / Right", "previous / next frame"),
    ("Shift+Left / Shift+Right", "back / forward 1 s"),
    ("Ctrl+Left / Ctrl+Right", "back / forward 5 s"),
    ("Home / End", "first / last frame"),
    ("[ / ]", "slower / faster (0.25x-2x)"),
    ("\\", "normal speed"),
    ("Ctrl+L", "loop the in/out range"),
)
ANNOTATION_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("R", "arm / disarm valence-arousal recording (records while playing)"),
    ("Enter", "write the joystick value on the shown frame"),
    ("1-8 (hold)", "paint an expression while held; a tap labels the shown frame"),
    ("0 (hold)", "clear the expression while held"),
    ("Shift+1-8", "fill the in/out range with an expression"),
    ("Q W E T Y ... (hold)", "toggle / paint an action unit (see the AU panel)"),
    ("Shift+AU key", "fill the in/out range: AU present"),
    ("I / O", "mark in / out"),
    ("Esc", "clear the marks"),
    ("N / Shift+N", "next unlabelled frame / next disagreement"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo (a recording pass is one step)"),
    ("Joystick field focused: arrows", "move the point (Shift: larger steps), Home centres"),
)


# Shift+digit arrives as the shifted symbol (US layout); map it back to the digit.
_SHIFTED_DIGITS = {Qt.Key_Exclam: "1", Qt.Key_At: "2", Qt.Key_NumberSign: "3", Qt.Key_Dollar: "4",
                   Qt.Key_Percent: "5", Qt.Key_AsciiCircum: "6", Qt.Key_Ampersand: "7", Qt.Key_Asterisk: "8",
                   Qt.Key_ParenRight: "0"}


def key_text(key: int) -> str:
    """Qt key code -> the single character used in EXPR_KEYS / AU_KEYS ('' for others)."""
    if key in _SHIFTED_DIGITS:
        return _SHIFTED_DIGITS[key]
    if Qt.Key_0 <= key <= Qt.Key_9:
        return chr(key)
    if Qt.Key_A <= key <= Qt.Key_Z:
        return chr(key)
    return ""
