"""The valence-arousal field: a 2D point in [-1, 1]^2 driven by mouse, keyboard or a gamepad."""
from __future__ import annotations

import math
from collections import deque

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import resources

# The joystick's modes and how menus name them: the one definition.
MODE_LABELS: tuple[tuple[str, str], ...] = (("2d", "valence and arousal"), ("valence", "valence only"),
                                            ("arousal", "arousal only"))
MODES: tuple[str, ...] = tuple(m for m, _label in MODE_LABELS)

# Russell's circumplex, placed roughly where the literature puts them (valence, arousal).
CIRCUMPLEX_ANCHORS: tuple[tuple[str, float, float], ...] = (
    ("excited", 0.70, 0.70), ("happy", 0.85, 0.35), ("content", 0.80, -0.35), ("relaxed", 0.60, -0.70),
    ("calm", 0.15, -0.85), ("tired", -0.35, -0.85), ("bored", -0.70, -0.60), ("sad", -0.85, -0.30),
    ("upset", -0.80, 0.35), ("angry", -0.60, 0.72), ("afraid", -0.30, 0.85), ("alert", 0.25, 0.90),
)


SIDE_MARGIN = 26  # px left and right of the field: the arousal words
TOP_MARGIN = 8
AXIS_LINE = 20  # px under the field: "-1  valence ->  +1"
READOUT_LINE = 16  # px per readout line under that


class JoystickField(QWidget):
    """Emits ``valueChanged(valence, arousal)``; ``value()`` is what a recording samples."""

    valueChanged = Signal(float, float)
    KEY_STEP = 0.05
    KEY_STEP_BIG = 0.2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._v = 0.0
        self._a = 0.0
        self.frame_va: tuple[float, float] | None = None  # the shown frame's VA label (None: unlabelled)
        self.mode = "2d"
        self.show_anchors = True
        self.recording = False
        self._trail: deque[tuple[float, float]] = deque(maxlen=60)
        self._dragging = False
        self._bg: QPixmap | None = None
        self._bg_key: tuple | None = None
        self._field_for: tuple[int, int] | None = None
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(16)
        self._repaint.timeout.connect(self.update)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumSize(180, 200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setToolTip("Drag to set valence (left-right) and arousal (bottom-top); the point stays where "
                        "you leave it. With focus: arrow keys move it (Shift: larger steps), Home centres.")

    # --- value ---
    def set_frame_va(self, va: tuple[float, float] | None) -> None:
        """The shown frame's VA label, read out beside the stick's value and drawn as a ring."""
        va = None if va is None else (float(va[0]), float(va[1]))
        if va != self.frame_va:
            self.frame_va = va
            if not self._repaint.isActive():
                self._repaint.start()

    def readout(self) -> tuple[str, str]:
        """The two lines under the field: the stick's value, and the shown frame's label."""
        stick = f"stick V {self._v:+.2f}  A {self._a:+.2f}"
        fv = self.frame_va
        frame = "frame: unlabelled" if fv is None else f"frame V {fv[0]:+.2f}  A {fv[1]:+.2f}"
        return ("● REC  " if self.recording else "") + stick, frame

    def value(self) -> np.ndarray:
        return np.array([self._v, self._a], dtype=np.float32)

    def set_value(self, valence: float, arousal: float) -> None:
        v = float(np.clip(valence, -1, 1))
        a = float(np.clip(arousal, -1, 1))
        if self.mode == "valence":
            a = self._a
        elif self.mode == "arousal":
            v = self._v
        if (v, a) != (self._v, self._a):
            self._v, self._a = v, a
            self.valueChanged.emit(v, a)
            if not self._repaint.isActive():  # a gamepad moves it at 125 Hz: draw at most at 60 Hz
                self._repaint.start()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"joystick mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.update()

    def columns(self) -> tuple[int, ...] | None:
        """VA columns a recording in this mode writes: None (both), (0,) valence, (1,) arousal."""
        return {"2d": None, "valence": (0,), "arousal": (1,)}[self.mode]

    def sample(self) -> np.ndarray:
        """The value restricted to the mode's columns (what one recorded frame stores)."""
        cols = self.columns()
        return self.value() if cols is None else self.value()[list(cols)]

    def push_trail(self) -> None:
        self._trail.append((self._v, self._a))
        self.update()

    def clear_trail(self) -> None:
        self._trail.clear()
        self.update()

    # --- geometry ---
    def _field(self) -> QRectF:
        size = (self.width(), self.height())
        if self._field_for != size:
            # beside the field: the arousal words (left), under it the valence words and the two readout lines,
            # so the readout never hides an anchor word
            below = AXIS_LINE + 2 * READOUT_LINE
            side = max(10.0, min(size[0] - 2 * SIDE_MARGIN, size[1] - TOP_MARGIN - below))
            top = max(TOP_MARGIN, (size[1] - side - below) / 2)
            self._field_rect = QRectF((size[0] - side) / 2, top, side, side)
            self._field_geom = (self._field_rect.left(), self._field_rect.bottom(), side)
            self._field_for = size
        return self._field_rect

    def _to_px(self, v: float, a: float) -> QPointF:
        self._field()
        left, bottom, side = self._field_geom
        return QPointF(left + (v + 1) / 2 * side, bottom - (a + 1) / 2 * side)

    def _from_px(self, p: QPointF) -> tuple[float, float]:
        r = self._field()
        return (2 * (p.x() - r.left()) / r.width() - 1, 2 * (r.bottom() - p.y()) / r.height() - 1)

    # --- drawing ---
    def paintEvent(self, _event) -> None:
        key = (self.width(), self.height(), self.mode, self.show_anchors, self.palette().cacheKey())
        if self._bg_key != key:  # the field, grid, anchors and labels change rarely: draw them once
            self._bg = QPixmap(self.size() * self.devicePixelRatioF())
            self._bg.setDevicePixelRatio(self.devicePixelRatioF())
            self._bg.fill(self.palette().window().color())
            bp = QPainter(self._bg)
            self._draw_background(bp)
            bp.end()
            self._bg_key = key
        p = QPainter(self)
        p.drawPixmap(0, 0, self._bg)
        p.setRenderHint(QPainter.Antialiasing)
        pal = self.palette()
        text = pal.text().color()
        r = self._field()
        self._draw_mode_band(p, r)
        self._draw_trail(p)
        accent = QColor(resources.label_colours().playhead) if self.recording else pal.highlight().color()
        c = self._to_px(self._v, self._a)
        p.setPen(QPen(accent.darker(130), 2))
        p.setBrush(accent)
        p.drawEllipse(c, 7, 7)
        if self.frame_va is not None:  # the frame's label: a ring, so the stick's dot stays the solid one
            p.setPen(QPen(text, 1.5))
            p.setBrush(Qt.NoBrush)
            p.drawEllipse(self._to_px(*self.frame_va), 6, 6)
        p.setPen(QPen(text))
        y = r.bottom() + AXIS_LINE
        for line in self.readout():
            p.drawText(QRectF(2, y, self.width() - 4, READOUT_LINE), Qt.AlignHCenter | Qt.AlignVCenter, line)
            y += READOUT_LINE
        p.end()

    def _draw_background(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        pal = self.palette()
        text = pal.text().color()
        muted = QColor(text)
        muted.setAlpha(110)
        r = self._field()
        p.fillRect(r, pal.base())
        p.setPen(QPen(muted, 1))
        p.drawRect(r)
        grid = QColor(text)
        grid.setAlpha(35)
        p.setPen(QPen(grid, 1, Qt.DotLine))
        for t in (-0.5, 0.5):
            p.drawLine(self._to_px(t, -1), self._to_px(t, 1))
            p.drawLine(self._to_px(-1, t), self._to_px(1, t))
        p.drawEllipse(r)
        p.setPen(QPen(muted, 1))
        p.drawLine(self._to_px(-1, 0), self._to_px(1, 0))
        p.drawLine(self._to_px(0, -1), self._to_px(0, 1))
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, self.font().pointSizeF() - 1.5))
        p.setFont(small)
        if self.show_anchors:
            p.setPen(QPen(muted))
            for name, v, a in CIRCUMPLEX_ANCHORS:
                pt = self._to_px(v * 0.92, a * 0.92)
                p.drawText(QRectF(pt.x() - 30, pt.y() - 7, 60, 14), Qt.AlignCenter, name)
        p.setPen(QPen(text))
        p.drawText(QRectF(r.left(), r.bottom() + 2, r.width(), 16), Qt.AlignCenter, "valence →")
        p.drawText(QRectF(r.left(), r.bottom() + 2, 30, 16), Qt.AlignLeft, "−1")
        p.drawText(QRectF(r.right() - 30, r.bottom() + 2, 30, 16), Qt.AlignRight, "+1")
        p.save()
        p.translate(r.left() - 6, r.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-r.height() / 2, -14, r.height(), 14), Qt.AlignCenter, "arousal →")
        p.restore()
        p.drawText(QRectF(r.left() + 4, r.top() + 2, r.width() - 8, 16), Qt.AlignRight,
                   "2D" if self.mode == "2d" else dict(MODE_LABELS)[self.mode])

    def _draw_mode_band(self, p: QPainter, r: QRectF) -> None:
        if self.mode == "2d":
            return
        shade = QColor(self.palette().highlight().color())
        shade.setAlpha(28)
        if self.mode == "valence":
            y = self._to_px(0, self._a).y()
            p.fillRect(QRectF(r.left(), y - 10, r.width(), 20), shade)
        else:
            x = self._to_px(self._v, 0).x()
            p.fillRect(QRectF(x - 10, r.top(), 20, r.height()), shade)

    TRAIL_BANDS = 6  # the fade is drawn as a few polylines, not one line per sample

    def _draw_trail(self, p: QPainter) -> None:
        pts = [self._to_px(v, a) for v, a in self._trail]
        n = len(pts)
        if n < 2:
            return
        base = QColor(self.palette().highlight().color())
        p.setBrush(Qt.NoBrush)
        step = max(1, math.ceil(n / self.TRAIL_BANDS))
        for b0 in range(0, n - 1, step):
            seg = pts[b0:min(n, b0 + step + 1)]
            frac = (b0 + step) / n
            c = QColor(base)
            c.setAlpha(int(30 + 190 * frac))
            p.setPen(QPen(c, 1 + 2 * frac))
            p.drawPolyline(seg)

    # --- mouse ---
    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.LeftButton:
            self._dragging = True
            self.set_value(*self._from_px(e.position()))
        super().mousePressEvent(e)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._dragging:
            self.set_value(*self._from_px(e.position()))

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        self._dragging = False  # the point holds where it was left

    # --- keyboard (only with focus, so the arrows step frames elsewhere) ---
    _ARROWS = {Qt.Key_Left: (-1, 0), Qt.Key_Right: (1, 0), Qt.Key_Up: (0, 1), Qt.Key_Down: (0, -1)}

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.ShortcutOverride and isinstance(e, QKeyEvent) \
                and (e.key() in self._ARROWS or e.key() == Qt.Key_Home) \
                and not e.modifiers() & ~(Qt.ShiftModifier | Qt.KeypadModifier):
            e.accept()  # take the arrows (and Shift+arrows) from the window's frame steps and Home from
            # "First frame" while focused; Ctrl+arrows still jump 5 s
            return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in self._ARROWS:
            dv, da = self._ARROWS[e.key()]
            step = self.KEY_STEP_BIG if e.modifiers() & Qt.ShiftModifier else self.KEY_STEP
            self.set_value(self._v + dv * step, self._a + da * step)
        elif e.key() == Qt.Key_Home:
            self.set_value(0.0, 0.0)
        else:
            super().keyPressEvent(e)
