"""Keyboard layout of the annotation keys (held to paint); the menu shortcuts live in app/actions.py."""
from __future__ import annotations

from PySide6.QtCore import Qt

EXPR_KEYS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8")
EXPR_CLEAR_KEY = "0"
# Letters for the project's AUs in order; R, I, O, N, M are kept for record, in, out, next, marks.
AU_KEYS: tuple[str, ...] = tuple("QWETYUPASDFGHJKLZXCVB")

# Keys that are not menu actions (held keys are read by app/key_filter.py; the joystick reads the
# arrows only while it has focus). The shortcuts sheet lists these after the actions' shortcuts.
HOLD_KEY_ROWS: tuple[tuple[str, str], ...] = (
    ("1-8 (hold)", "paint an expression while held; a tap labels the shown frame"),
    ("0 (hold)", "clear the expression while held"),
    ("Shift+1-8", "fill the in/out range with an expression"),
    ("Q W E T Y ... (hold)", "toggle / paint an action unit (see the AU panel)"),
    ("Shift+AU key", "fill the in/out range: AU present"),
    ("Joystick field focused: arrows", "move the point (Shift: larger steps), Home centres"),
    ("Text or number field focused", "keys type into the field (Ctrl shortcuts still work); Esc gives the "
     "keys back to the video"),
)


def held_keys() -> dict[str, str]:
    """Key sequences the hold-key filter takes (so no action may use them): sequence -> what."""
    out = {}
    for k in EXPR_KEYS + (EXPR_CLEAR_KEY,):
        out[k] = out[f"Shift+{k}"] = "expression key"
    for k in AU_KEYS:
        out[k] = out[f"Shift+{k}"] = "action-unit key"
    return out


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
