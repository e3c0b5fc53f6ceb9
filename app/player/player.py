"""The player controller: follows the clock, shows frames, reports each shown frame exactly once.

``frameShown(index, contiguous)`` fires once per displayed frame; ``contiguous`` is False after a
seek or loop wrap. Frames passed over because decoding or the UI was late are not reported (the
recorder fills them) but are counted in ``stats``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from .clock import AudioClock, WallClock, output_device_name
from .decoder import DecodeWorker, FrameSource

SPEEDS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


@dataclass
class PlaybackStats:
    """Presentation record of one playback span (bench and status bar)."""

    period_s: float = 0.04
    shown: int = 0
    skipped: int = 0
    on_time: int = 0
    lateness_ms: list[float] = field(default_factory=list)
    ui_ms: list[float] = field(default_factory=list)

    def add(self, lateness_s: float, skipped: int, ui_s: float) -> None:
        self.shown += 1
        self.skipped += skipped
        # on time: shown within half a frame period of its due time
        if lateness_s <= self.period_s / 2:
            self.on_time += 1
        self.lateness_ms.append(lateness_s * 1000)
        self.ui_ms.append(ui_s * 1000)

    @property
    def on_time_share(self) -> float:
        total = self.shown + self.skipped
        return self.on_time / total if total else float("nan")


class Player(QObject):
    frameShown = Signal(int, bool)
    imageReady = Signal(int, object)  # index, (H, W, 3) uint8 RGB
    playingChanged = Signal(bool)
    speedChanged = Signal(float)
    clockNote = Signal(str)
    error = Signal(str)
    _still = Signal(int, int, object)  # request serial, index, frame
    _err = Signal(str)

    def __init__(self, parent: QObject | None = None, readahead: int = 24) -> None:
        super().__init__(parent)
        self.readahead = readahead
        self.worker: DecodeWorker | None = None
        self.n_frames = 0
        self.fps = Fraction(25)
        self._fps_f = 25.0
        self.display_size: tuple[int, int] | None = None  # frames are scaled to this in the decode thread
        self.current = -1
        self.playing = False
        self.speed = 1.0
        self.loop: tuple[int, int] | None = None
        self.audio: np.ndarray | None = None
        self.audio_rate = 0
        self.has_audio_track = False
        self.device: str | None = None  # the audio output device, None when there is none
        self.use_audio = True
        self.clock: WallClock | AudioClock = WallClock()
        self.note = ""
        self.stats = PlaybackStats()
        self.after_frame: Callable[[int], None] | None = None  # bench/test hook run after each shown frame
        self._want = -1  # paused: the frame asked for (== current once it is shown)
        self._serial = 0  # numbers still requests; only the latest one is shown
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._still.connect(self._on_still, Qt.QueuedConnection)
        self._err.connect(self._on_error, Qt.QueuedConnection)
        self.last_error: str | None = None  # the decoder's last problem with this video

    # --- media ---
    def open(self, open_source: Callable[[], FrameSource], n_frames: int, fps: Fraction | float,
             has_audio_track: bool = False, start: int = 0) -> None:
        self.close()
        self.n_frames = int(n_frames)
        self.fps = Fraction(fps).limit_denominator(100000)
        self._fps_f = float(self.fps)
        self.has_audio_track = has_audio_track
        self.device = output_device_name() if has_audio_track else None
        self.audio = None
        self.stats = PlaybackStats(period_s=float(1 / self.fps))
        self.last_error = None
        self.worker = DecodeWorker(open_source, self.readahead, on_still=self._still.emit, on_error=self._err.emit,
                                   size=lambda: self.display_size)
        self.worker.start()
        self.current = -1
        self.seek(start)
        self._update_note()

    def set_audio(self, samples: np.ndarray | None, rate: int) -> None:
        """Audio for the clock (mono float32); None keeps the wall clock."""
        self.audio, self.audio_rate = samples, int(rate)
        self._update_note()

    def set_use_audio(self, on: bool) -> None:
        """Play the sound (the audio clock leads) or not (the wall clock)."""
        self.use_audio = bool(on)
        self._update_note()

    def close(self) -> None:
        self.pause()
        if self.worker is not None:
            self.worker.stop()
            self.worker.join(timeout=2)
            self.worker = None
        self.n_frames = 0
        self.current = self._want = -1
        self._serial += 1

    # --- time ---
    def time_of(self, i: int) -> float:
        return i / self._fps_f  # float: Fraction arithmetic costs too much per frame

    def index_at(self, t: float) -> int:
        return int(math.floor(t * self._fps_f + 1e-6))

    # --- position ---
    @property
    def position(self) -> int:
        """The frame the user is at: the shown frame, or the one asked for and still decoding (a step,
        a jump, a seek). Steps and jumps count from here, so keys pressed faster than frames decode
        add up exactly."""
        if self.playing:
            return self._run_start if self._priming and self._jumped else self.current
        return self._want

    # --- transport ---
    def play(self) -> None:
        if self.playing or self.worker is None or self.n_frames == 0:
            return
        pending = self._want >= 0 and self._want != self.current
        start = self._want if pending else self.current + 1  # from the frame asked for, else on from the shown one
        if start > self.n_frames - 1:
            start = self.loop[0] if self.loop else 0
        self._serial += 1  # a still still decoding is not wanted any more
        self.playing = True
        self._run_from(start, jumped=start != self.current + 1)
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._timer.stop()
        self.clock.stop()
        if self.worker is not None:
            self.worker.halt()
        if self._priming and self._jumped:  # paused before the frame sought to was shown: show it now
            self._request_still(self._run_start)
        else:
            self._want = self.current
        self._priming = False
        self.playingChanged.emit(False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def seek(self, i: int) -> None:
        if self.worker is None or self.n_frames == 0:
            return
        i = max(0, min(int(i), self.n_frames - 1))
        if self.playing:
            self._run_from(i, jumped=True)
        else:
            self._request_still(i)

    def refresh(self) -> None:
        """Decode the frame asked for again, e.g. at a new display size (the same frame is not reported
        as shown anew)."""
        if not self.playing and self.worker is not None and self._want >= 0:
            self._serial += 1
            self.worker.request(self._want, self._serial)

    def step(self, n: int) -> None:
        if self.position >= 0:
            self.seek(self.position + n)

    def jump_seconds(self, s: float) -> None:
        self.step(int(round(s * float(self.fps))))

    def set_speed(self, speed: float) -> None:
        speed = float(min(max(speed, SPEEDS[0]), SPEEDS[-1]))
        if speed == self.speed:
            return
        self.speed = speed
        if self.playing and not self._priming:
            self._start_clock(self.clock.time())
        self._update_note()
        self.speedChanged.emit(speed)

    def faster(self) -> None:
        self.set_speed(next((s for s in SPEEDS if s > self.speed + 1e-9), SPEEDS[-1]))

    def slower(self) -> None:
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self.speed - 1e-9), SPEEDS[0]))

    def set_loop(self, a: int | None, b: int | None = None) -> None:
        """Loop frames a..b (both shown) while playback runs inside them; None ends the loop."""
        self.loop = None if a is None or b is None or b <= a else (int(a), int(b))

    def _request_still(self, i: int) -> None:
        """Paused: show frame i. A newer request supersedes an older one still decoding."""
        self._want = i
        self._serial += 1
        if i != self.current:
            self.worker.request(i, self._serial)

    def _run_from(self, start: int, jumped: bool) -> None:
        """Playing: decode on from ``start``; the clock starts when that frame is there (no skipped
        frames at the start). ``current`` stays the frame on screen until then."""
        self.worker.play_from(start)
        self._run_start = start
        self._jumped = jumped
        self._priming = True
        self._schedule(0)

    # --- clock ---
    def _start_clock(self, media_t: float) -> None:
        self.clock.stop()
        if self.use_audio and self.device is not None and self.audio is not None and self.speed == 1.0:
            try:
                if not isinstance(self.clock, AudioClock) or self.clock.samples is not self.audio:
                    self.clock = AudioClock(self.audio, self.audio_rate)
                self.clock.start(media_t, 1.0)
                return
            except Exception as e:  # no device after all: say so and follow the wall
                self.use_audio = False
                self._update_note(f"Audio device failed ({type(e).__name__}); wall clock")
        if not isinstance(self.clock, WallClock):
            self.clock = WallClock()
        self.clock.start(media_t, self.speed)

    def _update_note(self, forced: str | None = None) -> None:
        if forced:
            note = forced
        elif not self.has_audio_track:
            note = "No audio track: wall clock"
        elif not self.use_audio:
            note = "Audio off: wall clock"
        elif self.device is None:
            note = "No audio device: wall clock"
        elif self.audio is None:
            note = "Loading audio: wall clock"
        elif self.speed != 1.0:
            note = f"Audio muted at {self.speed:g}x: wall clock"
        else:
            note = f"Audio clock ({self.device})"
        if note != self.note:
            self.note = note
            self.clockNote.emit(note)

    # --- frames ---
    _jumped = False
    _priming = False
    _run_start = 0

    def _on_error(self, message: str) -> None:
        self.last_error = message
        self.error.emit(message)

    def _on_still(self, serial: int, i: int, frame: np.ndarray) -> None:
        if self.playing or serial != self._serial:
            return  # superseded by a later request, or playback started meanwhile
        if i == self.current:  # the same frame redrawn (a resize): not shown anew, nothing to sample
            self.imageReady.emit(i, frame)
            return
        contiguous = i == self.current + 1
        self.current = i
        self.imageReady.emit(i, frame)
        self.frameShown.emit(i, contiguous)

    def _schedule(self, ms: float) -> None:
        self._timer.start(max(0, int(ms)))

    def _tick(self) -> None:
        if not self.playing or self.worker is None:
            return
        if self._priming:
            got = self.worker.take(self._run_start)
            if got is None:
                self._schedule(2)
                return
            self._priming = False
            self._start_clock(self.time_of(got[0]))
            self._show(*got)
            return
        t = self.clock.time()
        if getattr(self.clock, "unreliable", False):
            self.use_audio = False
            self._update_note("Audio device does not keep time: wall clock")
            t = self.time_of(max(self.current, 0))
            self.clock.stop()
            self.clock = WallClock()
            self.clock.start(t, self.speed)
        target = self.index_at(t)
        # The loop holds playback that runs inside its range; playback outside the range plays on (never
        # pulled into the range: an armed pass writes only frames the annotator watches play)
        if self.loop and target > self.loop[1] and self.loop[0] <= self.current <= self.loop[1]:
            if self.current == self.loop[1]:
                self._wrap_loop()
                return
            target = self.loop[1]  # show the range's last frame before wrapping
        last = self.n_frames - 1
        target = min(target, last)
        if target <= self.current:
            self._schedule(self._ms_until(self.current + 1))
            return
        got = self.worker.take(target)
        if got is None:  # the decoder is behind: that frame is late; look again soon
            self._schedule(2)
            return
        i, frame = got
        if i <= self.current:
            self._schedule(1)
            return
        self._show(i, frame)

    def _show(self, i: int, frame: np.ndarray) -> None:
        last = self.n_frames - 1
        t_ui = time.perf_counter()
        lateness = -self.clock.wall_until(self.time_of(i))
        skipped = 0 if self._jumped else i - self.current - 1
        contiguous = not self._jumped
        self._jumped = False
        self.current = i
        self.imageReady.emit(i, frame)
        self.frameShown.emit(i, contiguous)
        if self.after_frame is not None:
            self.after_frame(i)
        self.stats.add(lateness, skipped, time.perf_counter() - t_ui)
        if i >= last and not (self.loop and self.loop[0] <= i <= self.loop[1]):
            self.pause()
            return
        self._schedule(self._ms_until(i + 1))

    def _ms_until(self, i: int) -> float:
        return max(0.0, self.clock.wall_until(self.time_of(i)) * 1000 - 0.5)

    def _wrap_loop(self) -> None:
        self._run_from(self.loop[0], jumped=True)
