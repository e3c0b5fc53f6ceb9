"""Expression panel: eight classes as buttons (hold to paint), the shown frame's label, range fill."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.labels import EXPR_MISSING, EXPRESSIONS

from .. import resources
from ..keys import EXPR_CLEAR_KEY, EXPR_KEYS


class ExpressionPanel(QWidget):
    """Buttons emit pressed/released (the controller paints while held); fill asks for a range fill."""

    pressed = Signal(int)
    released = Signal(int)
    fillRequested = Signal(int)
    clearRangeRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.current = QLabel("Frame: unlabelled")
        self.current.setObjectName("valueReadout")
        lay.addWidget(self.current)
        grid = QGridLayout()
        grid.setSpacing(4)
        self.buttons: list[QPushButton] = []
        colours = resources.label_colours().expressions
        for i, name in enumerate(EXPRESSIONS):
            b = QPushButton(f"{EXPR_KEYS[i]}  {name}")
            b.setCheckable(True)
            b.setToolTip(f"Hold {EXPR_KEYS[i]} (or this button) to paint {name} while playing; "
                         f"a tap labels the shown frame; Shift+{EXPR_KEYS[i]} fills the in/out range")
            b.setStyleSheet(f"QPushButton {{ border-left: 6px solid {colours[i]}; text-align: left; }}")
            b.setFocusPolicy(Qt.NoFocus)
            b.pressed.connect(lambda i=i: self.pressed.emit(i))
            b.released.connect(lambda i=i: self.released.emit(i))
            b.clicked.connect(lambda _=False, i=i: self._restore_checks())
            grid.addWidget(b, i // 2, i % 2)
            self.buttons.append(b)
        lay.addLayout(grid)
        clear = QPushButton(f"{EXPR_CLEAR_KEY}  Clear")
        clear.setToolTip("Hold 0 (or this button) to clear the expression while playing")
        clear.setFocusPolicy(Qt.NoFocus)
        clear.pressed.connect(lambda: self.pressed.emit(EXPR_MISSING))
        clear.released.connect(lambda: self.released.emit(EXPR_MISSING))
        lay.addWidget(clear)
        row = QHBoxLayout()
        self.marks = QLabel("In/out: not set")
        self.marks.setObjectName("note")
        row.addWidget(self.marks, 1)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.fill_class = QComboBox()
        self.fill_class.addItems(list(EXPRESSIONS))
        self.fill_class.setFocusPolicy(Qt.NoFocus)
        fill = QPushButton("Fill in→out")
        fill.setFocusPolicy(Qt.NoFocus)
        fill.clicked.connect(lambda: self.fillRequested.emit(self.fill_class.currentIndex()))
        clear_r = QPushButton("Clear in→out")
        clear_r.setFocusPolicy(Qt.NoFocus)
        clear_r.clicked.connect(self.clearRangeRequested.emit)
        row.addWidget(self.fill_class, 1)
        row.addWidget(fill)
        row.addWidget(clear_r)
        lay.addLayout(row)
        lay.addStretch(1)
        self._value: int | None = None

    def show_value(self, expr: int | None) -> None:
        self._value = expr
        self.current.setText("Frame: unlabelled" if expr is None else f"Frame: {EXPRESSIONS[expr]}")
        self._restore_checks()

    def _restore_checks(self) -> None:
        for i, b in enumerate(self.buttons):
            b.setChecked(i == self._value)

    def show_marks(self, a: int | None, b: int | None) -> None:
        if a is None and b is None:
            self.marks.setText("In/out: not set (I / O)")
        else:
            self.marks.setText(f"In/out: {'—' if a is None else a} → {'—' if b is None else b}")
