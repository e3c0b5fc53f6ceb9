"""Follow one face through a video: detect on keyframes, re-fit in between, re-detect when the fit is lost."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .backends.base import Face, FaceBackend, iou

PREFERENCES = ("central", "left", "right")


@dataclass
class TrackStep:
    """What the tracker saw in one frame: the tracked face (or None), other faces, whether it ran detection."""

    face: Face | None
    others: list[Face] = field(default_factory=list)
    detected: bool = False


def choose_face(faces: list[Face], frame_shape: tuple[int, ...], prev: Face | None = None,
                prefer: str = "central") -> Face | None:
    """The face to follow: the one overlapping the previous face, else by ``prefer``.

    'central' weighs size against distance from the frame centre (largest, most central wins);
    'left' / 'right' take the face furthest to that side (Aff-Wild2's ``_left``/``_right`` videos).
    """
    if not faces:
        return None
    if prev is not None:
        best = max(faces, key=lambda f: iou(f.box, prev.box))
        if iou(best.box, prev.box) > 0.3:
            return best
    if prefer == "left":
        return min(faces, key=lambda f: f.box[0] + f.box[2])
    if prefer == "right":
        return max(faces, key=lambda f: f.box[0] + f.box[2])
    h, w = frame_shape[:2]
    half_diag = 0.5 * float(np.hypot(w, h))

    def weight(f: Face) -> float:
        cx, cy = 0.5 * (f.box[0] + f.box[2]), 0.5 * (f.box[1] + f.box[3])
        return f.area * (1.0 - 0.5 * float(np.hypot(cx - w / 2, cy - h / 2)) / half_diag)

    return max(faces, key=weight)


class FaceTracker:
    """Runs a backend frame by frame in order. ``every``: a full detection at least every N frames."""

    def __init__(self, backend: FaceBackend, every: int = 10, prefer: str = "central") -> None:
        if every < 1:
            raise ValueError("every must be >= 1")
        if prefer not in PREFERENCES:
            raise ValueError(f"prefer must be one of {PREFERENCES}")
        self.backend = backend
        self.every = every
        self.prefer = prefer
        self.prev: Face | None = None
        self._since_key = 0
        self._last_index: int | None = None

    def reset(self) -> None:
        self.prev = None
        self._since_key = 0
        self._last_index = None

    def step(self, frame: np.ndarray, index: int) -> TrackStep:
        """Keyframes (every ``every`` frames, and the frame where the face is lost) get a full detection;
        other frames re-fit the followed face, or, with none, get the backend's quick detection pass."""
        if self._last_index is not None and index != self._last_index + 1:
            self.reset()  # a jump: the previous face says nothing about this frame
        self._last_index = index
        keyframe = self._since_key == 0 or self._since_key >= self.every
        if self.prev is not None and not keyframe and not self.backend.detect_is_cheap:
            face = self.backend.refit(frame, index, self.prev)
            if face is not None:
                self.prev = face
                self._since_key += 1
                return TrackStep(face)
            keyframe = True  # lost it: look everywhere, at every size
        faces = self.backend.detect(frame, index, fine=keyframe)
        main = choose_face(faces, frame.shape, self.prev, self.prefer)
        self.prev = main
        self._since_key = 1 if keyframe else self._since_key + 1
        return TrackStep(main, [f for f in faces if f is not main], detected=True)
