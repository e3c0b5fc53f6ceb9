"""What every face backend provides: full-frame detection and a cheap re-fit near a known face."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Face:
    """One face in one frame: box xyxy in pixels, 68 iBUG landmarks (x, y) and a detector/fit score."""

    box: np.ndarray  # (4,) float32 x0, y0, x1, y1
    landmarks: np.ndarray  # (68, 2) float32
    score: float

    @property
    def area(self) -> float:
        return float(max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1]))


class FaceBackend(Protocol):
    """A detector + 68-point landmark model.

    ``detect`` looks at the whole frame and returns every face; ``fine=False`` asks for a quicker pass
    that may miss small faces (used between keyframes while no face is followed). ``refit`` follows
    ``prev`` into the next frame (landmarks re-fitted near the previous face) and returns None when the
    face is lost there, so the tracker falls back to ``detect``. ``index``: the frame index (the
    reference backend looks landmarks up by it).
    """

    name: str
    detect_is_cheap: bool  # True: the tracker may call detect on every frame

    def detect(self, frame: np.ndarray, index: int, fine: bool = True) -> list[Face]: ...

    def refit(self, frame: np.ndarray, index: int, prev: Face) -> Face | None: ...


def box_of_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """The tight xyxy box of a set of points."""
    lm = np.asarray(landmarks, dtype=np.float32)
    return np.array([lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()], dtype=np.float32)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two xyxy boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def follow_box(prev_box: np.ndarray, prev_landmarks: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Move and scale a detector box with its landmarks, keeping the detector's own box convention."""
    p = np.asarray(prev_landmarks, dtype=np.float32)
    q = np.asarray(landmarks, dtype=np.float32)
    pc, qc = p.mean(axis=0), q.mean(axis=0)
    ps = float(np.sqrt(((p - pc) ** 2).sum(axis=1).mean()))
    qs = float(np.sqrt(((q - qc) ** 2).sum(axis=1).mean()))
    s = qs / ps if ps > 0 else 1.0
    b = np.asarray(prev_box, dtype=np.float32)
    corners = (b.reshape(2, 2) - pc) * s + qc
    return corners.reshape(4).astype(np.float32)
