"""Held annotation keys (expression digits, AU letters): press starts painting, release ends it.

Shortcuts cannot see key releases, so an application event filter does this; it stays out of the
way of text fields and dialogs. Shift+key fills the in/out range instead.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from core.labels import EXPR_MISSING

from .annotate import AnnotationController
from .keys import AU_KEYS, EXPR_CLEAR_KEY, EXPR_KEYS, key_text

_KEY_EVENTS = frozenset((QEvent.KeyPress, QEvent.KeyRelease, QEvent.ShortcutOverride))


class HoldKeyFilter(QObject):
    def __init__(self, window: QWidget, controller: AnnotationController, n_aus) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.n_aus = n_aus  # callable: size of the project's AU set
        self.held: set[str] = set()

    def _applies(self) -> bool:
        if QApplication.activeModalWidget() is not None:
            return False
        w = QApplication.focusWidget()
        if isinstance(w, (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)):
            return False
        if isinstance(w, QComboBox) and w.isEditable():
            return False
        top = QApplication.activeWindow()
        return top is None or top is self.window

    def _action(self, e: QKeyEvent) -> tuple[str, int] | None:
        if e.modifiers() & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier):
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
        if t not in _KEY_EVENTS:
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self.window or not self._applies():
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
