"""Transport bar: play/pause, steps and jumps, speed, loop, the frame/time readout and the clock note."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from ..player.player import SPEEDS


def fmt_time(t: float) -> str:
    m, s = divmod(max(0.0, t), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m:02d}:{s:05.2f}"


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

        def tb(text: str, tip: str, fn) -> QToolButton:
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.NoFocus)
            b.setAutoRaise(True)
            b.clicked.connect(fn)
            lay.addWidget(b)
            return b

        tb("−5s", "Back 5 s (Ctrl+Left)", lambda: self.jumpRequested.emit(-5.0))
        tb("−1s", "Back 1 s (Shift+Left)", lambda: self.jumpRequested.emit(-1.0))
        tb("◀|", "Previous frame (Left)", lambda: self.stepRequested.emit(-1))
        self.play = QPushButton("▶ Play")
        self.play.setToolTip("Play / pause (Space)")
        self.play.setFocusPolicy(Qt.NoFocus)
        self.play.setMinimumWidth(84)
        self.play.clicked.connect(self.playClicked.emit)
        lay.addWidget(self.play)
        tb("|▶", "Next frame (Right)", lambda: self.stepRequested.emit(1))
        tb("+1s", "Forward 1 s (Shift+Right)", lambda: self.jumpRequested.emit(1.0))
        tb("+5s", "Forward 5 s (Ctrl+Right)", lambda: self.jumpRequested.emit(5.0))
        self.speed = QComboBox()
        self.speed.setFocusPolicy(Qt.NoFocus)
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}x", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed ([ slower, ] faster, \\ normal)")
        self.speed.currentIndexChanged.connect(lambda i: self.speedChosen.emit(self.speed.itemData(i)))
        lay.addWidget(self.speed)
        self.loop = QToolButton()
        self.loop.setText("⟲ Loop")
        self.loop.setCheckable(True)
        self.loop.setFocusPolicy(Qt.NoFocus)
        self.loop.setToolTip("Loop the in/out range (Ctrl+L)")
        self.loop.toggled.connect(self.loopToggled.emit)
        lay.addWidget(self.loop)
        lay.addSpacing(10)
        self.readout = QLabel("frame — / —")
        self.readout.setObjectName("valueReadout")
        lay.addWidget(self.readout)
        lay.addStretch(1)
        self.note = QLabel("")
        self.note.setObjectName("note")
        lay.addWidget(self.note)

    def show_playing(self, playing: bool) -> None:
        self.play.setText("❚❚ Pause" if playing else "▶ Play")

    def show_position(self, i: int, n: int, fps: float) -> None:
        self.readout.setText(f"frame {i:>6d} / {max(n - 1, 0)}   {fmt_time(i / fps)} / {fmt_time(n / fps)}")

    def show_speed(self, s: float) -> None:
        i = self.speed.findData(s)
        if i >= 0 and i != self.speed.currentIndex():
            self.speed.blockSignals(True)
            self.speed.setCurrentIndex(i)
            self.speed.blockSignals(False)
