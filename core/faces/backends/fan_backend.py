"""face-alignment backend: S3FD detector + 2D-FAN (68 points), on the GPU when there is one.

Its weights are never fetched silently: each file is taken from the per-user weights folder (torch's
hub checkpoints folder) or else the system-wide one every user of the machine sees (core.weights;
``affecttrace weights install`` puts them there), unless the caller allows the download explicitly
(``allow_download=True``, CLI ``--allow-download``). torch and face_alignment are imported only when
this backend is built.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ...errors import AffectTraceError
from ...weights import FAN_WEIGHT_FILES, find, missing_fan, system_folder, user_folder
from .base import Face, follow_box, iou

MIN_FIT_SCORE = 0.35  # mean heatmap peak of the 68 points; below it the tracked face counts as lost
S3FD, FAN4 = FAN_WEIGHT_FILES


def fan_available() -> bool:
    """True when face-alignment imports and both weight files are in place (no download needed)."""
    if importlib.util.find_spec("face_alignment") is None or importlib.util.find_spec("torch") is None:
        return False
    return not missing_fan()


@contextlib.contextmanager
def _hub_holding(fan4: Path | None) -> Iterator[None]:
    """face-alignment reads the 2D-FAN file from torch's hub folder only: when ours is elsewhere (the
    system-wide folder), point torch.hub for the moment at a temporary folder that links to it."""
    if fan4 is None or fan4.parent == user_folder():
        yield
        return
    import torch.hub

    previous = torch.hub.get_dir()
    with tempfile.TemporaryDirectory(prefix="affecttrace-hub-") as tmp:
        view = Path(tmp) / "checkpoints" / fan4.name
        view.parent.mkdir()
        try:
            os.symlink(fan4, view)
        except OSError:  # no symbolic links here (Windows without the privilege): a copy
            shutil.copyfile(fan4, view)
        torch.hub.set_dir(tmp)
        try:
            yield
        finally:
            torch.hub.set_dir(previous)


class FanBackend:
    name = "fan"
    detect_is_cheap = False

    def __init__(self, device: str | None = None, allow_download: bool = False) -> None:
        if importlib.util.find_spec("face_alignment") is None or importlib.util.find_spec("torch") is None:
            raise AffectTraceError("the fan backend needs face-alignment and torch (pip install face-alignment)")
        missing = missing_fan()
        if missing and not allow_download:
            raise AffectTraceError(
                f"face-alignment weights missing: {', '.join(missing)}; the fan backend needs "
                f"{' and '.join(FAN_WEIGHT_FILES)} in your folder {user_folder()} (set TORCH_HOME to use another) "
                f"or the system-wide folder {system_folder()} (every user's; set AFFECTTRACE_SYSTEM_WEIGHTS to use "
                "another): `affecttrace weights install FILE` checks a file and puts it there; or pass "
                "--allow-download to let face-alignment download them")
        import face_alignment
        import torch

        s3fd, fan4 = find(S3FD), find(FAN4)
        detector = {"path_to_detector": str(s3fd)} if s3fd is not None else {}
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        with _hub_holding(fan4):
            self._fa = face_alignment.FaceAlignment(
                face_alignment.LandmarksType.TWO_D, device=self.device, flip_input=False,
                face_detector="sfd", face_detector_kwargs=detector, compile=False, verbose=False)

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

