"""Loading what a video needs besides frames, off the GUI thread (app.background): audio for the clock and
the waveform, and the face cache (box + landmarks per frame) for the overlay."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from .background import Background

AUDIO_RATE = 22050
LONG_AUDIO_RATE = 11025  # above half an hour, to keep memory modest
LONG_S = 1800.0


def envelope(samples: np.ndarray, rate: int, n_frames: int, fps: float) -> np.ndarray:
    """Peak |amplitude| per video frame (n_frames,) float32."""
    out = np.zeros(n_frames, np.float32)
    if not len(samples) or n_frames == 0:
        return out
    edges = (np.arange(n_frames + 1) / fps * rate).astype(np.int64).clip(0, len(samples))
    a = np.abs(samples)
    ok = edges[1:] > edges[:-1]
    if ok.any():
        out[ok] = np.maximum.reduceat(a, edges[:-1][ok])
    return out


class FaceOverlay:
    """Boxes and landmarks by frame from a face cache (core.faces.FaceCache)."""

    def __init__(self, frames: np.ndarray, boxes: np.ndarray | None, landmarks: np.ndarray | None) -> None:
        self.pos = {int(f): k for k, f in enumerate(frames)}
        self.boxes = boxes
        self.landmarks = landmarks

    def at(self, i: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        k = self.pos.get(i)
        if k is None:
            return None, None
        return (None if self.boxes is None else self.boxes[k],
                None if self.landmarks is None else self.landmarks[k])


class VideoExtrasLoader(QObject):
    """``load(...)`` reads a video's face cache and audio as two Background tasks (side by side); results arrive
    as signals tagged with the load's token, and a newer load supersedes an older one."""

    audioLoaded = Signal(int, object, int, object)  # token, samples, rate, envelope
    audioFailed = Signal(int, str)
    facesLoaded = Signal(int, object)  # token, FaceOverlay

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.token = 0
        self.bg: Background = Background(self)

    def load(self, media: Path, has_audio: bool, duration_s: float, n_frames: int, fps: float,
             face_cache: Path | None) -> int:
        self.token += 1
        tok = self.token
        self.bg.cancel()
        if face_cache is not None and face_cache.exists():
            self.bg.submit(lambda: _read_faces(face_cache, n_frames), lambda ov, err: self._faces(tok, ov),
                           key="faces")
        if has_audio:
            rate = AUDIO_RATE if duration_s <= LONG_S else LONG_AUDIO_RATE
            self.bg.submit(lambda: _read_audio(media, rate, n_frames, fps),
                           lambda res, err: self._audio(tok, rate, res, err), key="audio")
        return tok

    def _faces(self, tok: int, overlay: FaceOverlay | None) -> None:
        if overlay is not None and tok == self.token:  # the overlay is optional: a half-written cache shows nothing
            self.facesLoaded.emit(tok, overlay)

    def _audio(self, tok: int, rate: int, res: tuple[np.ndarray, np.ndarray] | None, error: str) -> None:
        if tok != self.token:
            return
        if res is None:
            self.audioFailed.emit(tok, error)
        else:
            self.audioLoaded.emit(tok, res[0], rate, res[1])

    def shutdown(self, timeout_ms: int = 10000) -> None:
        self.bg.shutdown(timeout_ms)


def _read_faces(face_cache: Path, n_frames: int) -> FaceOverlay | None:
    from core.faces.cache import FaceCache

    try:
        with FaceCache(face_cache, n_frames) as fc:
            return FaceOverlay(np.asarray(fc.frames), _arr(fc.boxes), _arr(fc.landmarks))
    except Exception:
        return None  # damaged or being written: no overlay (the cache is checked where it is used)


def _read_audio(media: Path, rate: int, n_frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(mono samples at ``rate``, their peak per frame); errors reach the GUI as one line (Background)."""
    from core.media import MediaReader

    with MediaReader(media, cache_frames=0, readahead=False) as r:
        samples = r.audio(rate=rate, mono=True)
    return samples, envelope(samples, rate, n_frames, fps)


def _arr(v):
    v = v() if callable(v) else v
    return None if v is None else np.asarray(v)
