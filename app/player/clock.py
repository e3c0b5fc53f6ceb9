"""Playback clocks in media seconds. Audio leads when there is a device and a track; else the wall clock."""
from __future__ import annotations

import threading
import time

import numpy as np


class WallClock:
    """Media time from the monotonic wall clock, scaled by the playback speed."""

    kind = "wall"

    def __init__(self) -> None:
        self._t0_media = 0.0
        self._t0_wall = time.perf_counter()
        self.speed = 1.0
        self.running = False

    def start(self, media_t: float, speed: float = 1.0) -> None:
        self._t0_media, self._t0_wall, self.speed, self.running = media_t, time.perf_counter(), speed, True

    def stop(self) -> None:
        self.running = False

    def time(self) -> float:
        if not self.running:
            return self._t0_media
        return self._t0_media + (time.perf_counter() - self._t0_wall) * self.speed

    def wall_until(self, media_t: float) -> float:
        """Seconds of wall time until the clock reaches ``media_t`` (negative when past)."""
        return (media_t - self.time()) / self.speed


def output_device_name() -> str | None:
    """Name of the default audio output device, or None when there is none (or no PortAudio)."""
    try:
        import sounddevice as sd

        d = sd.query_devices(kind="output")
        return str(d["name"]) if d else None
    except Exception:
        return None


class AudioClock:
    """Plays mono float32 samples through sounddevice; the samples played define media time.

    Video follows: the player asks ``time()`` and shows the frame under it. ``time()`` is the
    position of the sample at the DAC now, from the last callback's DAC timestamp.
    """

    kind = "audio"

    def __init__(self, samples: np.ndarray, rate: int) -> None:
        import sounddevice as sd

        self._sd = sd
        self.samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        self.rate = int(rate)
        self.speed = 1.0
        self.running = False
        self._lock = threading.Lock()
        self._stream = None
        self._pos = 0
        self._block_pos: int | None = None
        self._block_dac = 0.0
        self._t0_media = 0.0
        self._last = 0.0
        self._wall0 = time.perf_counter()
        self.unreliable = False  # set when the device's clock is seen not to run in real time
        self.volume = 1.0

    def _callback(self, outdata, frames, time_info, status) -> None:  # audio thread
        pos = self._pos
        chunk = self.samples[pos:pos + frames]
        outdata[: len(chunk), 0] = chunk * self.volume
        outdata[len(chunk):, 0] = 0.0
        dac = time_info.outputBufferDacTime or (time_info.currentTime + (self._stream.latency if self._stream else 0))
        with self._lock:
            self._block_pos, self._block_dac = pos, dac
            self._pos = pos + frames

    def start(self, media_t: float, speed: float = 1.0) -> None:
        """Open the stream at ``media_t``; raises (PortAudioError) when there is no usable device."""
        self.stop()
        self._pos = max(0, int(round(media_t * self.rate)))
        self._t0_media = self._last = media_t
        self._block_pos = None
        self._stream = self._sd.OutputStream(samplerate=self.rate, channels=1, dtype="float32",
                                             callback=self._callback, latency="low")
        self._stream.start()
        self._wall0 = time.perf_counter()
        self.unreliable = False
        self.running = True

    def stop(self) -> None:
        s, self._stream = self._stream, None
        if s is not None:
            try:
                s.stop()
                s.close()
            except Exception:
                pass
        if self.running:
            self._t0_media = self.time_raw()
        self.running = False

    def time_raw(self) -> float:
        with self._lock:
            pos, dac = self._block_pos, self._block_dac
        s = self._stream
        if pos is None or s is None:
            return self._t0_media
        return max(self._t0_media, pos / self.rate + (s.time - dac))

    def time(self) -> float:
        t = max(self._last, self.time_raw())  # never backwards between callbacks
        wall = time.perf_counter() - self._wall0
        played = t - self._t0_media
        too_fast = played > 1.5 * wall + 0.08
        if (wall > 0.05 and too_fast) or (wall > 0.5 and played < 0.5 * wall - 0.1):
            # a device that does not play in real time (ALSA's null device swallows samples as fast as
            # they come; a stalled one never asks for more): its clock is worthless, the player falls
            # back to the wall clock
            self.unreliable = True
        if too_fast:  # no real device gets this far ahead: never let the video race before that is seen
            t = max(self._last, self._t0_media + wall)
        self._last = t
        return t

    def wall_until(self, media_t: float) -> float:
        return media_t - self.time()
