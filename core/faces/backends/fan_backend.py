"""face-alignment backend: S3FD detector + 2D-FAN (68 points), on the GPU when there is one.

Its weights are never fetched silently: they must already be in torch's hub checkpoints folder unless
the caller allows the download explicitly (``allow_download=True``, CLI ``--allow-download``).
torch and face_alignment are imported only when this backend is built.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ...errors import AffectTraceError
from .base import Face, follow_box, iou

FAN_WEIGHT_FILES = ("s3fd-619a316812.pth", "2DFAN4-11f355bf06.pth.tar")
MIN_FIT_SCORE = 0.35  # mean heatmap peak of the 68 points; below it the tracked face counts as lost


def hub_checkpoints_dir() -> Path:
    """torch.hub's checkpoints folder, where face-alignment looks for (and downloads) its weights."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def missing_fan_weights() -> list[Path]:
    folder = hub_checkpoints_dir()
    return [folder / f for f in FAN_WEIGHT_FILES if not (folder / f).is_file()]


def fan_available() -> bool:
    """True when face-alignment imports and both weight files are in place (no download needed)."""
    if importlib.util.find_spec("face_alignment") is None or importlib.util.find_spec("torch") is None:
        return False
    return not missing_fan_weights()


class FanBackend:
    name = "fan"
    detect_is_cheap = False

    def __init__(self, device: str | None = None, allow_download: bool = False) -> None:
        if importlib.util.find_spec("face_alignment") is None or importlib.util.find_spec("torch") is None:
            raise AffectTraceError("the fan backend needs face-alignment and torch (pip install face-alignment)")
        missing = missing_fan_weights()
        if missing and not allow_download:
            folder = hub_checkpoints_dir()
            raise AffectTraceError(
                f"face-alignment weights missing: {', '.join(p.name for p in missing)}; put "
                f"{' and '.join(FAN_WEIGHT_FILES)} in {folder} (set TORCH_HOME to use another folder), "
                "or pass --allow-download to let face-alignment download them")
        import face_alignment
        import torch

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._fa = face_alignment.FaceAlignment(
            face_alignment.LandmarksType.TWO_D, device=self.device, flip_input=False,
            face_detector="sfd", compile=False, verbose=False)

    def _landmarks(self, frame: np.ndarray, boxes: list[np.ndarray]) -> list[tuple[np.ndarray, float]]:
        # float64: face-alignment writes box-derived numpy scalars into torch tensors, which refuses float32
        boxes = [np.asarray(b, dtype=np.float64) for b in boxes]
        lms, scores, _ = self._fa.get_landmarks_from_image(frame, detected_faces=boxes, return_landmark_score=True)
        return [(np.asarray(lm, dtype=np.float32)[:, :2], float(np.mean(sc))) for lm, sc in zip(lms, scores)]

    def detect(self, frame: np.ndarray, index: int, fine: bool = True) -> list[Face]:
        dets = self._fa.face_detector.detect_from_image(frame.copy())
        if len(dets) == 0:
            return []
        boxes = [np.asarray(d[:4], dtype=np.float32) for d in dets]
        fitted = self._landmarks(frame, boxes)
        return [Face(box=b, landmarks=lm, score=float(d[4])) for b, d, (lm, _) in zip(boxes, dets, fitted)]

    def refit(self, frame: np.ndarray, index: int, prev: Face) -> Face | None:
        lm, quality = self._landmarks(frame, [prev.box])[0]
        if quality < MIN_FIT_SCORE:
            return None
        box = follow_box(prev.box, prev.landmarks, lm)
        if iou(box, prev.box) < 0.2:
            return None
        return Face(box=box, landmarks=lm, score=quality)

