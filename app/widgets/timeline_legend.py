"""The timeline's track legend: one check box per track in its curve colour; it scrolls sideways
rather than widening the window when there are many tracks."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QScrollArea, QSizePolicy, QWidget


class TrackLegend(QScrollArea):
    toggled = Signal(str, bool)  # track name, shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.setMinimumWidth(80)
        self._inner = QWidget()
        self._row = QHBoxLayout(self._inner)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(12)
        self._row.addStretch(1)
        self.setWidget(self._inner)
        self.boxes: dict[str, QCheckBox] = {}
        self.setFixedHeight(self._inner.sizeHint().height() + 14)

    def set_items(self, items: list[tuple[str, str, bool]]) -> None:
        """(name, '#colour', shown) per track, in order."""
        for box in self.boxes.values():
            self._row.removeWidget(box)
            box.hide()
            box.deleteLater()
        self.boxes = {}
        for k, (name, colour, shown) in enumerate(items):
            box = QCheckBox(name)
            box.setFocusPolicy(Qt.NoFocus)
            box.setChecked(shown)
            box.setToolTip(f"Show the valence-arousal curves of {name}")
            box.setStyleSheet(f"QCheckBox {{ color: {colour}; font-weight: 600; }}")
            box.toggled.connect(lambda on, n=name: self.toggled.emit(n, on))
            self._row.insertWidget(k, box)
            self.boxes[name] = box
        self.setFixedHeight(max(self._inner.sizeHint().height(), 22) + 14)

    def set_checked(self, name: str, on: bool) -> None:
        box = self.boxes.get(name)
        if box is not None and box.isChecked() != on:
            box.setChecked(on)
