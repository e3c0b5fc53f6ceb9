"""Action-unit panel: the project's AU set as toggles (hold to paint), FACS names, intensity, range fill."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.labels import AU_MISSING, au_description

from ..keys import AU_KEYS


class AUPanel(QWidget):
    pressed = Signal(int)
    released = Signal(int)
    fillRequested = Signal(int, int)  # AU column, value (1 present / 0 absent)
    clearRangeRequested = Signal()
    absentByDefaultChanged = Signal(bool)
    intensityChanged = Signal(object)  # None or 1..5

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        lay.addLayout(self.grid)
        self.buttons: list[QPushButton] = []
        self.aus: tuple[str, ...] = ()
        self._values: list[int] = []
        self.absent_default = QCheckBox("Unmarked AUs are absent")
        self.absent_default.setChecked(True)
        self.absent_default.setToolTip("Painting one AU also marks the other AUs absent (0) where unlabelled, "
                                       "so the frame counts as AU-labelled")
        self.absent_default.setFocusPolicy(Qt.NoFocus)
        self.absent_default.toggled.connect(self.absentByDefaultChanged.emit)
        lay.addWidget(self.absent_default)
        row = QHBoxLayout()
        row.addWidget(QLabel("Intensity"))
        self.intensity = QSpinBox()
        self.intensity.setRange(0, 5)
        self.intensity.setSpecialValueText("off")
        self.intensity.setToolTip("FACS intensity written with present AUs (A=1 ... E=5); off: occurrence only")
        self.intensity.valueChanged.connect(lambda v: self.intensityChanged.emit(v or None))
        row.addWidget(self.intensity)
        row.addStretch(1)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.fill_au = QComboBox()
        self.fill_au.setFocusPolicy(Qt.NoFocus)
        self.fill_value = QComboBox()
        self.fill_value.addItems(["present", "absent"])
        self.fill_value.setFocusPolicy(Qt.NoFocus)
        fill = QPushButton("Fill in→out")
        fill.setFocusPolicy(Qt.NoFocus)
        fill.clicked.connect(lambda: self.fillRequested.emit(self.fill_au.currentIndex(),
                                                             1 if self.fill_value.currentIndex() == 0 else 0))
        clear = QPushButton("Clear in→out")
        clear.setFocusPolicy(Qt.NoFocus)
        clear.clicked.connect(self.clearRangeRequested.emit)
        self.fill_au.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.fill_au.setMinimumContentsLength(8)  # long FACS names never widen the dock
        row.addWidget(self.fill_au, 1)
        row.addWidget(self.fill_value)
        lay.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(fill)
        row.addWidget(clear)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(1)

    def set_aus(self, aus: tuple[str, ...]) -> None:
        """Build one toggle per AU of the project's set, with its key and FACS name."""
        for b in self.buttons:
            self.grid.removeWidget(b)
            b.deleteLater()
        self.buttons = []
        self.aus = tuple(aus)
        cols = 3 if len(aus) > 8 else 2
        for k, au in enumerate(aus):
            key = AU_KEYS[k] if k < len(AU_KEYS) else ""
            desc = au_description(au)
            b = QPushButton(f"{key}  {au}" if key else au)
            b.setCheckable(True)
            b.setFocusPolicy(Qt.NoFocus)
            b.setToolTip(f"{au}: {desc or 'FACS action unit'}\nHold {key or 'the button'} to paint while playing; "
                         f"a tap toggles the shown frame" + (f"; Shift+{key} fills the in/out range" if key else ""))
            b.pressed.connect(lambda k=k: self.pressed.emit(k))
            b.released.connect(lambda k=k: self.released.emit(k))
            b.clicked.connect(lambda _=False: self._restore_checks())
            self.grid.addWidget(b, k // cols, k % cols)
            self.buttons.append(b)
        self.fill_au.clear()
        self.fill_au.addItems([f"{a} {au_description(a)}".strip() for a in aus])
        self._values = [AU_MISSING] * len(aus)
        self._restore_checks()

    def show_values(self, values: list[int] | None) -> None:
        self._values = list(values) if values else [AU_MISSING] * len(self.aus)
        self._restore_checks()

    def _restore_checks(self) -> None:
        for b, v in zip(self.buttons, self._values):
            b.setChecked(v == 1)
            f = b.font()
            f.setItalic(v == AU_MISSING)  # unlabelled: italic, absent: plain, present: highlighted
            b.setFont(f)
