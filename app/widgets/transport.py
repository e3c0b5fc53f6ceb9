"""Transport bar: play/pause, steps and jumps, speed, loop, the frame/time readout and the clock note."""
from __future__ import annotations

from fractions import Fraction
from typing import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from .. import resources
from ..player.player import SPEEDS
from .live_text import LiveText


def fmt_fps(fps: Fraction | float) -> str:
    """A frame rate as people write it: 25, 29.97, 23.976 (never rounded to a different rate)."""
    return f"{float(fps):.3f}".rstrip("0").rstrip(".")


def fmt_time(t: float) -> str:
    m, s = divmod(max(0.0, t), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m:02d}:{s:05.2f}"


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with '…' (full text in the tooltip) instead of widening
    the window."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setMinimumWidth(60)

    MAX_KEPT_PX = 130  # never more: the window must not grow for a note

    def setText(self, text: str) -> None:
        """The text; a short first clause (before a colon) stays whole: 'No audio device…', not 'No audi…'."""
        super().setText(text)
        self.setToolTip(text)
        head = text.split(":")[0] + "…" if ":" in text else ""
        self.setMinimumWidth(max(60, min(self.fontMetrics().horizontalAdvance(head) + 4, self.MAX_KEPT_PX)))

    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        text = self.fontMetrics().elidedText(self.text(), Qt.ElideRight, self.width())
        p.drawText(self.rect(), Qt.AlignRight | Qt.AlignVCenter, text)
        p.end()


class TransportBar(QWidget):
    playClicked = Signal()
    stepRequested = Signal(int)  # frames
    jumpRequested = Signal(float)  # seconds
    speedChosen = Signal(float)
    loopToggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.setSpacing(3)

        self.icons: dict[QAbstractButton, str] = {}
        self.action_keys: dict[QAbstractButton, str] = {}  # the menu action each button does (for its tooltip)

        def tb(icon: str, action: str, fn) -> QToolButton:
            b = QToolButton()
            self.action_keys[b] = action
            b.setFocusPolicy(Qt.NoFocus)
            b.setAutoRaise(True)
            b.setIconSize(QSize(20, 20))
            b.clicked.connect(fn)
            lay.addWidget(b)
            self.icons[b] = icon
            return b

        tb("back-5", "back5", lambda: self.jumpRequested.emit(-5.0))
        tb("back", "back1", lambda: self.jumpRequested.emit(-1.0))
        tb("frame-prev", "prev", lambda: self.stepRequested.emit(-1))
        self.play = QPushButton("Play")
        self.action_keys[self.play] = "play"
        self.play.setFocusPolicy(Qt.NoFocus)
        self.play.setMinimumWidth(84)
        self.play.setIconSize(QSize(18, 18))
        self.play.clicked.connect(self.playClicked.emit)
        lay.addWidget(self.play)
        tb("frame-next", "next", lambda: self.stepRequested.emit(1))
        tb("forward", "fwd1", lambda: self.jumpRequested.emit(1.0))
        tb("forward-5", "fwd5", lambda: self.jumpRequested.emit(5.0))
        self.speed = QComboBox()
        self.speed.setFocusPolicy(Qt.NoFocus)
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}x", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed")
        self.speed.currentIndexChanged.connect(lambda i: self.speedChosen.emit(self.speed.itemData(i)))
        lay.addWidget(self.speed)
        self.loop = QToolButton()
        self.loop.setAutoRaise(True)
        self.loop.setIconSize(QSize(20, 20))
        self.icons[self.loop] = "loop"
        self.loop.setCheckable(True)
        self.loop.setFocusPolicy(Qt.NoFocus)
        self.action_keys[self.loop] = "loop"
        self.loop.toggled.connect(self.loopToggled.emit)
        lay.addWidget(self.loop)
        lay.addSpacing(10)
        self.readout = LiveText("— / —", sample="00000 / 00000  00:00.00")
        self.readout.setObjectName("valueReadout")
        self.readout.setToolTip("The shown frame / the last frame, and its time")
        lay.addWidget(self.readout)
        lay.addStretch(1)
        self.note = ElidedLabel()
        self.note.setObjectName("note")
        lay.addWidget(self.note, 1)
        self._colour = "#000000"
        self._playing = False
        self.retint(self._colour)

    def describe(self, text_of: Callable[[str], str]) -> None:
        """Tooltips from the actions the buttons do: ``text_of(key)``, e.g. 'Back 5 s (Ctrl+Left)'."""
        for b, key in self.action_keys.items():
            b.setToolTip(text_of(key))

    def retint(self, colour: str) -> None:
        """Icons drawn in the theme's text colour."""
        self._colour = colour
        for b, name in self.icons.items():
            b.setIcon(resources.icon(name, colour))
        self.show_playing(self._playing)

    def show_playing(self, playing: bool) -> None:
        self._playing = playing
        self.play.setText("Pause" if playing else "Play")
        self.play.setIcon(resources.icon("pause" if playing else "play", self._colour))

    def show_position(self, i: int, n: int, fps: float) -> None:
        if i < 0 or n <= 0:
            self.readout.setText("— / —")
            return
        last = max(n - 1, 0)
        self.readout.set_sample(f"{last:>6d} / {last}  {fmt_time(last / fps)}")  # as wide as this video needs
        self.readout.setText(f"{i:>6d} / {last}  {fmt_time(i / fps)}")

    def show_speed(self, s: float) -> None:
        i = self.speed.findData(s)
        if i >= 0 and i != self.speed.currentIndex():
            self.speed.blockSignals(True)
            self.speed.setCurrentIndex(i)
            self.speed.blockSignals(False)
