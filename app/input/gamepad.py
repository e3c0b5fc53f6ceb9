"""Gamepad / joystick input through SDL (pygame-ce), without opening any window.

Axis choice, dead zone, inversion and calibration (min, rest, max per axis). Without a device
the app keeps working and ``status`` says so; devices plugged in later are picked up.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal


@dataclass
class AxisCalibration:
    low: float = -1.0
    rest: float = 0.0
    high: float = 1.0


@dataclass
class GamepadConfig:
    axis_valence: int = 0
    axis_arousal: int = 1
    invert_valence: bool = False
    invert_arousal: bool = True  # SDL reports stick-up as negative
    dead_zone: float = 0.08
    cal_valence: AxisCalibration = field(default_factory=AxisCalibration)
    cal_arousal: AxisCalibration = field(default_factory=AxisCalibration)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "GamepadConfig":
        c = cls()
        for k, v in (d or {}).items():
            if k.startswith("cal_") and isinstance(v, dict):
                setattr(c, k, AxisCalibration(**{x: float(v[x]) for x in ("low", "rest", "high") if x in v}))
            elif hasattr(c, k):
                setattr(c, k, type(getattr(c, k))(v))
        return c


def map_axis(raw: float, cal: AxisCalibration, dead_zone: float, invert: bool) -> float:
    """A raw SDL axis reading -> [-1, 1] with the rest position at 0 and a dead zone around it."""
    if raw >= cal.rest:
        span = max(cal.high - cal.rest, 1e-6)
        x = (raw - cal.rest) / span
    else:
        span = max(cal.rest - cal.low, 1e-6)
        x = (raw - cal.rest) / span
    x = max(-1.0, min(1.0, x))
    if abs(x) < dead_zone:
        x = 0.0
    else:  # rescale so the output still spans the whole range outside the dead zone
        x = (abs(x) - dead_zone) / (1 - dead_zone) * (1 if x > 0 else -1)
    return -x if invert else x


class Calibrator:
    """Collects raw readings while the user circles the stick, then rests it."""

    def __init__(self) -> None:
        self.lo = [1.0, 1.0]
        self.hi = [-1.0, -1.0]
        self.last = [0.0, 0.0]

    def add(self, rv: float, ra: float) -> None:
        for i, r in enumerate((rv, ra)):
            self.lo[i] = min(self.lo[i], r)
            self.hi[i] = max(self.hi[i], r)
            self.last[i] = r

    def result(self) -> tuple[AxisCalibration, AxisCalibration]:
        """Extremes seen and the current (resting) reading as the centre."""
        out = []
        for i in range(2):
            lo, hi, rest = self.lo[i], self.hi[i], self.last[i]
            if hi - lo < 0.2:  # the stick was not moved: keep the full range
                lo, hi = -1.0, 1.0
            out.append(AxisCalibration(lo, min(max(rest, lo), hi), hi))
        return out[0], out[1]


class GamepadInput(QObject):
    """Polls the first SDL joystick and emits ``moved(valence, arousal)`` when the mapped value changes."""

    moved = Signal(float, float)
    statusChanged = Signal(str)
    POLL_MS = 8

    def __init__(self, config: GamepadConfig | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config or GamepadConfig()
        self.status = "Gamepad: not started"
        self.name: str | None = None
        self._pg = None
        self._joy = None
        self._last: tuple[float, float] | None = None
        self.calibrator: Calibrator | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self.poll)

    def start(self) -> bool:
        """Start SDL's joystick subsystem (no window) and the poll timer; False when SDL is unusable."""
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS", "1")
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        try:
            import pygame

            pygame.display.init()
            pygame.joystick.init()
        except Exception as e:  # no SDL, no pygame: the app works without a gamepad
            self._set_status(f"Gamepad unavailable ({type(e).__name__}: {e}); use the mouse or keyboard")
            return False
        self._pg = pygame
        self._open_first()
        self._timer.start()
        return True

    def stop(self) -> None:
        self._timer.stop()
        self._joy = None

    def _set_status(self, s: str) -> None:
        self.status = s
        self.statusChanged.emit(s)

    def _open_first(self) -> None:
        pg = self._pg
        if pg.joystick.get_count() == 0:
            self._joy, self.name = None, None
            self._set_status("No gamepad found: use the mouse or keyboard (a device plugged in later is picked up)")
            return
        j = pg.joystick.Joystick(0)
        self._joy, self.name = j, j.get_name()
        self._set_status(f"Gamepad: {self.name} ({j.get_numaxes()} axes)")

    def n_axes(self) -> int:
        return self._joy.get_numaxes() if self._joy is not None else 0

    def raw(self) -> tuple[float, float] | None:
        j = self._joy
        if j is None:
            return None
        n = j.get_numaxes()
        c = self.config
        rv = j.get_axis(c.axis_valence) if c.axis_valence < n else 0.0
        ra = j.get_axis(c.axis_arousal) if c.axis_arousal < n else 0.0
        return rv, ra

    def mapped(self, rv: float, ra: float) -> tuple[float, float]:
        c = self.config
        return (map_axis(rv, c.cal_valence, c.dead_zone, c.invert_valence),
                map_axis(ra, c.cal_arousal, c.dead_zone, c.invert_arousal))

    def poll(self) -> None:
        pg = self._pg
        if pg is None:
            return
        for ev in pg.event.get((pg.JOYDEVICEADDED, pg.JOYDEVICEREMOVED)):
            self._open_first()
        pg.event.pump()
        r = self.raw()
        if r is None:
            return
        if self.calibrator is not None:
            self.calibrator.add(*r)
            return
        m = self.mapped(*r)
        if m != self._last:
            self._last = m
            self.moved.emit(*m)

    def begin_calibration(self) -> None:
        self.calibrator = Calibrator()

    def end_calibration(self) -> None:
        if self.calibrator is None:
            return
        self.config.cal_valence, self.config.cal_arousal = self.calibrator.result()
        self.calibrator = None
