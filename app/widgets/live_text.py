"""A line of text that changes with every shown frame (the frame readout, the status bar's frame and labels).

A QLabel given new text asks its window to lay out again (every dock and panel), which at 25 or 30 frames
a second is most of the cost of showing a frame. ``LiveText.setText`` only repaints the line itself: its
size depends on its font and a sample text, never on the text shown. Text wider than the line is cut
with '…'.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class LiveText(QWidget):
    def __init__(self, text: str = "", sample: str = "", align: Qt.AlignmentFlag = Qt.AlignLeft | Qt.AlignVCenter,
                 parent: QWidget | None = None) -> None:
        """``sample``: as wide as the widest text expected (its width is the size hint); '' lets a layout
        stretch it (then it takes what is left, at least ``minimumWidth``)."""
        super().__init__(parent)
        self._text, self.sample, self.align = text, sample, align
        if not sample:
            self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.update()

    def set_sample(self, sample: str) -> None:
        """A new widest text (e.g. for another video's frame count): the one change that resizes it."""
        if sample != self.sample:
            self.sample = sample
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance(self.sample) + 8 if self.sample else self.minimumWidth(), fm.height() + 4)

    def minimumSizeHint(self) -> QSize:  # a sampled line (a counter) is never cut
        return self.sizeHint() if self.sample else QSize(self.minimumWidth(), self.fontMetrics().height() + 4)

    def changeEvent(self, e: QEvent) -> None:
        if e.type() in (QEvent.FontChange, QEvent.StyleChange):
            self.updateGeometry()  # a new font: a new size (rare, unlike new text)
        super().changeEvent(e)

    def paintEvent(self, _e: QPaintEvent) -> None:
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        r = self.contentsRect().adjusted(2, 0, -2, 0)
        p.drawText(r, self.align, self.fontMetrics().elidedText(self._text, Qt.ElideRight, r.width()))
        p.end()
