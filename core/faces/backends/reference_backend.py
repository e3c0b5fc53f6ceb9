"""reference backend: landmarks given per frame (the demo project's ground_truth.h5 ``landmarks68``).

Frames whose landmarks are NaN (or past the end of the array) have no face.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import AffectTraceError
from ...safepaths import require_file
from .base import Face, box_of_landmarks

REFERENCE_FILE = "ground_truth.h5"  # beside a demo project's project.json


class ReferenceBackend:
    name = "reference"
    detect_is_cheap = True

    def __init__(self, landmarks: np.ndarray, boxes: np.ndarray | None = None) -> None:
        self.landmarks = np.asarray(landmarks, dtype=np.float32)
        if self.landmarks.ndim != 3 or self.landmarks.shape[1:] != (68, 2):
            raise ValueError(f"reference landmarks must be (n, 68, 2), got {self.landmarks.shape}")
        self.boxes = None if boxes is None else np.asarray(boxes, dtype=np.float32).reshape(-1, 4)

    def detect(self, frame: np.ndarray, index: int, fine: bool = True) -> list[Face]:
        if index >= len(self.landmarks):
            return []
        lm = self.landmarks[index]
        if not np.isfinite(lm).all():
            return []
        box = self.boxes[index] if self.boxes is not None and np.isfinite(self.boxes[index]).all() \
            else box_of_landmarks(lm)
        return [Face(box=box.copy(), landmarks=lm.copy(), score=1.0)]

    def refit(self, frame: np.ndarray, index: int, prev: Face) -> Face | None:
        found = self.detect(frame, index)
        return found[0] if found else None


def load_reference(path: str | Path, video: str | None = None) -> ReferenceBackend:
    """Landmarks from an HDF5 file (``landmarks68`` at the root or under a group named after the video,
    ``boxes`` optional beside it) or a .npy array (n, 68, 2)."""
    path = Path(path)
    if not path.exists():
        raise AffectTraceError("reference landmarks file not found", path)
    require_file(path)
    if path.suffix == ".npy":
        try:
            return ReferenceBackend(np.load(path, allow_pickle=False))
        except (ValueError, OSError, EOFError) as e:
            raise AffectTraceError(f"not a landmarks array ({str(e)[:160]})", path) from None
    import h5py

    try:
        with h5py.File(path, "r") as f:
            group = f[video] if video is not None and video in f and isinstance(f[video], h5py.Group) else f
            if "landmarks68" not in group:
                where = f"group {video!r} or the root" if video else "the root"
                raise AffectTraceError(f"no 'landmarks68' dataset in {where}", path)
            boxes = group["boxes"][()] if "boxes" in group else None
            return ReferenceBackend(group["landmarks68"][()], boxes)
    except (OSError, ValueError) as e:
        raise AffectTraceError(f"not readable landmarks ({str(e).splitlines()[0][:160] if str(e) else e})", path) from e
