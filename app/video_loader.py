"""Loading what a video needs besides frames, off the GUI thread: audio for the clock and the
waveform, and the face cache (box + landmarks per frame) for the overlay."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

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
    """``load(path, cache_path, ...)`` starts a thread; results arrive as queued signals tagged with a token."""

    audioLoaded = Signal(int, object, int, object)  # token, samples, rate, envelope
    audioFailed = Signal(int, str)
    facesLoaded = Signal(int, object)  # token, FaceOverlay

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.token = 0

    def load(self, media: Path, has_audio: bool, duration_s: float, n_frames: int, fps: float,
             face_cache: Path | None) -> int:
        self.token += 1
        tok = self.token
        threading.Thread(target=self._run, args=(tok, media, has_audio, duration_s, n_frames, fps, face_cache),
                         name="affecttrace-extras", daemon=True).start()
        return tok

    def _run(self, tok: int, media: Path, has_audio: bool, duration_s: float, n_frames: int, fps: float,
             face_cache: Path | None) -> None:
        if face_cache is not None and face_cache.exists():
            try:
                from core.faces.cache import FaceCache

                with FaceCache(face_cache, n_frames) as fc:
                    ov = FaceOverlay(np.asarray(fc.frames), _arr(fc.boxes), _arr(fc.landmarks))
                if tok == self.token:
                    self.facesLoaded.emit(tok, ov)
            except Exception:
                pass  # the overlay is optional; a half-written cache shows nothing
        if not has_audio:
            return
        rate = AUDIO_RATE if duration_s <= LONG_S else LONG_AUDIO_RATE
        try:
            from core.media import MediaReader

            with MediaReader(media, cache_frames=0, readahead=False) as r:
                samples = r.audio(rate=rate, mono=True)
        except Exception as e:
            if tok == self.token:
                self.audioFailed.emit(tok, str(e))
            return
        if tok == self.token:
            self.audioLoaded.emit(tok, samples, rate, envelope(samples, rate, n_frames, fps))


def _arr(v):
    v = v() if callable(v) else v
    return None if v is None else np.asarray(v)
