"""Held annotation keys (expression digits, AU letters): press starts painting, release ends it.

Shortcuts cannot see key releases, so an application event filter does this; it stays out of the
way of text fields and dialogs. Shift+key fills the in/out range instead.

The same filter makes every text and number field own its keys while it has focus: a plain or Shift key
typed there (a digit, Return, Home, End, BackSpace, Escape ...) never reaches a window shortcut, so typing
a value never labels, steps or seeks the video. Ctrl/Alt shortcuts (save, quit, undo) still work. Esc in
a field of the window leaves it: the keyboard goes back to the video (``leave_field``).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from core.labels import EXPR_MISSING

from .annotate import AnnotationController
from .keys import AU_KEYS, EXPR_CLEAR_KEY, EXPR_KEYS, key_text

_KEY_EVENTS = frozenset((QEvent.KeyPress, QEvent.KeyRelease, QEvent.ShortcutOverride))


_SHORTCUT_MODIFIERS = Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier


def is_text_field(w: QWidget | None) -> bool:
    """A widget that takes typed text or numbers (it owns the plain keys while it has focus)."""
    if isinstance(w, (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)):
        return not (isinstance(w, (QTextEdit, QPlainTextEdit)) and w.isReadOnly())
    return isinstance(w, QComboBox) and w.isEditable()


class HoldKeyFilter(QObject):
    def __init__(self, window: QWidget, controller: AnnotationController, n_aus: Callable[[], int],
                 leave_field: Callable[[], None] | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.n_aus = n_aus  # size of the project's AU set
        self.leave_field = leave_field  # Esc in a field of the window: give the keyboard back
        self.held: set[str] = set()

    def _applies(self) -> bool:
        if QApplication.activeModalWidget() is not None:
            return False
        if is_text_field(QApplication.focusWidget()):
            return False
        top = QApplication.activeWindow()
        return top is None or top is self.window

    @staticmethod
    def _field_owns(obj: QWidget, e: QKeyEvent) -> bool:
        """A plain or Shift key sent to a focused text or number field (or to its inner line edit)."""
        if e.modifiers() & _SHORTCUT_MODIFIERS or e.key() in (Qt.Key_unknown, 0):
            return False
        w = QApplication.focusWidget()
        return is_text_field(w) and (obj is w or w.isAncestorOf(obj) or obj.isAncestorOf(w))

    def _action(self, e: QKeyEvent) -> tuple[str, int] | None:
        if e.modifiers() & _SHORTCUT_MODIFIERS:
            return None
        ch = key_text(e.key())
        if ch in EXPR_KEYS:
            return "expr", EXPR_KEYS.index(ch)
        if ch == EXPR_CLEAR_KEY:
            return "expr", EXPR_MISSING
        if ch in AU_KEYS and AU_KEYS.index(ch) < self.n_aus():
            return "au", AU_KEYS.index(ch)
        return None

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        if not isinstance(e, QKeyEvent):  # cheap first: this filter sees every event of the application
            return False
        t = e.type()
        if t not in _KEY_EVENTS or not isinstance(obj, QWidget):
            return False
        if t == QEvent.ShortcutOverride and self._field_owns(obj, e):
            e.accept()  # the key goes to the field as a key press; no shortcut sees it
            return True
        if (t == QEvent.KeyPress and e.key() == Qt.Key_Escape and self.leave_field is not None
                and QApplication.activeModalWidget() is None and QWidget.window(obj) is self.window
                and self._field_owns(obj, e)):
            self.leave_field()
            return True
        # QWidget.window: some views have an attribute of that name that shadows the method
        if QWidget.window(obj) is not self.window or not self._applies():
            return False
        act = self._action(e)
        if act is None:
            return False
        if t == QEvent.ShortcutOverride:
            e.accept()
            return True
        key = f"{act[0]}:{act[1]}"
        c = self.controller
        if t == QEvent.KeyPress:
            if e.isAutoRepeat() or key in self.held:
                return True
            if e.modifiers() & Qt.ShiftModifier:
                if act[0] == "expr":
                    c.fill_expr(act[1]) if act[1] != EXPR_MISSING else c.clear_range("expr")
                else:
                    c.fill_au(act[1], 1)
                return True
            self.held.add(key)
            c.press_expr(act[1]) if act[0] == "expr" else c.press_au(act[1])
            return True
        if e.isAutoRepeat():
            return True
        if key in self.held:
            self.held.discard(key)
            c.release_expr(act[1]) if act[0] == "expr" else c.release_au(act[1])
        return True
