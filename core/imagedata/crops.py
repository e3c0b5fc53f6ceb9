"""One image row -> its 112x112 RGB face crop: aligned with the same 5-point template as videos
(core.faces.align) from 68 landmarks, 5 points or a detected face; or the database's own aligned crop
(or a given face crop, or a face box) resized."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..faces.align import CROP_SIZE, TEMPLATE_112, five_points, similarity_transform
from .records import ImageRow

_BACKENDS: dict[str, Any] = {}  # one face backend per process, built on first use


def read_rgb(path: Path) -> np.ndarray | None:
    """An image file as RGB uint8, or None when it is missing or not a readable image."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if img is None else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def align_points(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Warp ``image`` so its 5 (or 68, reduced to 5) points land on the 112x112 template."""
    pts = np.asarray(points, np.float64)
    five = five_points(pts) if pts.shape == (68, 2) else pts
    m = similarity_transform(five, TEMPLATE_112)
    return cv2.warpAffine(image, m, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def resize_crop(image: np.ndarray) -> np.ndarray:
    """A face crop as given (e.g. RAF-DB's 100x100 aligned images) at 112x112."""
    if image.shape[:2] == (CROP_SIZE, CROP_SIZE):
        return image
    shrink = image.shape[0] > CROP_SIZE or image.shape[1] > CROP_SIZE
    return cv2.resize(image, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def box_crop(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The face box (x, y, w, h), made square about its centre, resized to 112x112 (black outside)."""
    x, y, w, h = box
    side = max(w, h)
    cx, cy = x + w / 2, y + h / 2
    s = CROP_SIZE / side
    m = np.array([[s, 0, CROP_SIZE / 2 - s * cx], [0, s, CROP_SIZE / 2 - s * cy]])
    return cv2.warpAffine(image, m, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)


def detect_crop(image: np.ndarray, backend: str) -> np.ndarray | None:
    """The largest face a backend finds, aligned; None without a face."""
    if backend not in _BACKENDS:
        from ..faces.backends import make_backend

        _BACKENDS[backend] = make_backend(backend)
    faces = _BACKENDS[backend].detect(image, 0)
    if not faces:
        return None
    return align_points(image, max(faces, key=lambda f: f.area).landmarks)


def make_crop(root: Path, row: ImageRow, backend: str = "dlib") -> tuple[np.ndarray | None, str]:
    """(crop, '') or (None, why): a missing or unreadable image, or no face found."""
    image = read_rgb(root / row.path)
    if image is None:
        return None, f"unreadable image: {row.path}"
    if row.method in ("landmarks68", "points5") and row.points is not None:
        return align_points(image, row.points), ""
    if row.method == "box" and row.box is not None:
        return box_crop(image, row.box), ""
    if row.method == "detect":
        crop = detect_crop(image, backend)
        return (crop, "") if crop is not None else (None, f"no face found: {row.path}")
    return resize_crop(image), ""
