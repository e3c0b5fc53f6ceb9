"""dlib backend: HOG frontal face detector + the 68-point shape predictor of face-recognition-models.

Fully offline. Detection runs on a downscaled frame first (about 4x cheaper) and on the full frame only
when that finds nothing; tracking re-detects in a small window around the previous face, scaled so the
face is about ``TRACK_FACE_PX`` wide, which costs a few milliseconds instead of a full-frame pass.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np

from ...errors import AffectTraceError
from ...weights import DLIB_MODEL, PACKED, unpacked
from .base import Face, iou

DETECT_SHORT_SIDE = 180  # downscaled first pass: a 640x360 frame is searched at 320x180
DETECT_MAX_SHORT_SIDE = 480  # second pass; HOG finds faces from ~80 px, i.e. 1/6 of the frame height here
TRACK_FACE_PX = 100  # the tracked face is rescaled to about this width for the local re-detection
TRACK_MARGIN = 0.3  # the search window extends the previous box by this fraction of its size per side
MIN_SCORE = 0.0  # HOG SVM margin; dlib's own default threshold


def shipped_model() -> Path:
    """Where the face-recognition-models package keeps shape_predictor_68_face_landmarks.dat (the
    packaged build has it compressed beside: the same name + .xz)."""
    # Located without importing the package: its __init__ imports pkg_resources (deprecated, and gone
    # from setuptools >= 81).
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise AffectTraceError("the dlib backend needs the package face-recognition-models "
                               "(pip install face-recognition-models)")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / DLIB_MODEL


def dlib_model_path() -> Path:
    """The 68-point model: the package's file, else (packaged build) the copy in a weights folder,
    unpacked there from the build's .xz on first use."""
    path = shipped_model()
    packed = path.with_name(path.name + PACKED)
    if path.exists() or not packed.exists():
        return path
    return unpacked(packed, note=lambda text: print(f"dlib backend: {text}", file=sys.stderr))


class DlibBackend:
    name = "dlib"
    detect_is_cheap = False

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as e:
            raise AffectTraceError("the dlib backend needs dlib (pip install dlib-bin)") from e
        path = dlib_model_path()
        if not path.exists():
            raise AffectTraceError("dlib's 68-point landmark model is missing", path)
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(path))

    def _run(self, image: np.ndarray, scale: float, dx: float = 0.0, dy: float = 0.0) -> list[tuple[np.ndarray, float]]:
        rects, scores, _ = self._detector.run(np.ascontiguousarray(image), 0, MIN_SCORE)
        return [(np.array([r.left() / scale + dx, r.top() / scale + dy, r.right() / scale + dx,
                           r.bottom() / scale + dy], dtype=np.float32), float(s)) for r, s in zip(rects, scores)]

    def _fit(self, frame: np.ndarray, box: np.ndarray, score: float) -> Face:
        rect = self._dlib.rectangle(*(int(round(v)) for v in box))
        shape = self._predictor(frame, rect)
        lm = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        return Face(box=box, landmarks=lm, score=score)

    def detect(self, frame: np.ndarray, index: int, fine: bool = True) -> list[Face]:
        frame = _grey(frame)
        h, w = frame.shape[:2]
        found: list[tuple[np.ndarray, float]] = []
        scale = DETECT_SHORT_SIDE / min(h, w)
        if scale < 0.75:
            small = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            found = self._run(small, scale)
        if not found and (fine or scale >= 0.75):  # smaller faces need a finer pass
            scale = min(1.0, DETECT_MAX_SHORT_SIDE / min(h, w))
            image = frame if scale == 1.0 else cv2.resize(frame, (round(w * scale), round(h * scale)),
                                                           interpolation=cv2.INTER_AREA)
            found = self._run(image, scale)
        return [self._fit(frame, b, s) for b, s in found]

    def refit(self, frame: np.ndarray, index: int, prev: Face) -> Face | None:
        frame = _grey(frame)
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = (float(v) for v in prev.box)
        bw, bh = x1 - x0, y1 - y0
        if bw < 4 or bh < 4:
            return None
        wx0, wy0 = max(0, int(x0 - TRACK_MARGIN * bw)), max(0, int(y0 - TRACK_MARGIN * bh))
        wx1, wy1 = min(w, int(x1 + TRACK_MARGIN * bw)), min(h, int(y1 + TRACK_MARGIN * bh))
        window = frame[wy0:wy1, wx0:wx1]
        if window.shape[0] < 16 or window.shape[1] < 16:
            return None
        scale = min(1.0, TRACK_FACE_PX / bw)
        if scale < 1.0:
            size = (max(1, round(window.shape[1] * scale)), max(1, round(window.shape[0] * scale)))
            window = cv2.resize(window, size, interpolation=cv2.INTER_AREA)
        found = self._run(window, scale, wx0, wy0)
        if not found:
            return None
        box, score = max(found, key=lambda f: iou(f[0], prev.box))
        if iou(box, prev.box) < 0.2:
            return None
        return self._fit(frame, box, score)


def _grey(frame: np.ndarray) -> np.ndarray:
    """HOG and the shape predictor work on intensity; one conversion per frame saves it in each call."""
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
