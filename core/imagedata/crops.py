"""One image row -> its 112x112 RGB face crop: aligned with the same 5-point template as videos
(core.faces.align) from 68 landmarks, 5 points or a detected face; or the database's own aligned crop
(or a given face crop, or a face box) resized. Images are read strictly (core.imagedata.decode); rows
placed by the database's geometry use the pixels as stored (EXIF orientation ignored: the coordinates
refer to them), the others are turned upright by their EXIF orientation."""
from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

from ..faces.align import CROP_SIZE, TEMPLATE_112, five_points, geometry_problem, similarity_transform
from .decode import ImageError, decode_rgb, exif_orientation, read_bytes
from .records import ImageRow

_BACKENDS: dict[str, Any] = {}  # one face backend per process, built on first use
GEOMETRY_METHODS = ("landmarks68", "points5", "box")  # placed by the database's coordinates
NO_FACE = "no face found"


class Crop(NamedTuple):
    """What making one row's crop gave: the crop, or None and why; ``oriented``: the image has an EXIF
    orientation other than 'as stored' (applied or not, by the row's method)."""

    crop: np.ndarray | None
    problem: str = ""
    oriented: bool = False


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


def make_crop(root: Path, row: ImageRow, backend: str = "dlib") -> Crop:
    """The row's crop, or why not: a missing, unreadable, truncated or oversized image, face geometry
    that cannot place a face, or no face found (``problem`` starts with NO_FACE)."""
    try:
        data = read_bytes(root / row.path)
        oriented = exif_orientation(data) != 1
        image = decode_rgb(data, upright=row.method not in GEOMETRY_METHODS)
    except ImageError as e:
        return Crop(None, str(e))
    if row.method in ("landmarks68", "points5") and row.points is not None:
        bad = geometry_problem(row.points, None, image.shape)
        return Crop(None, bad, oriented) if bad else Crop(align_points(image, row.points), "", oriented)
    if row.method == "box" and row.box is not None:
        bad = geometry_problem(None, row.box, image.shape)
        return Crop(None, bad, oriented) if bad else Crop(box_crop(image, row.box), "", oriented)
    if row.method == "detect":
        crop = detect_crop(image, backend)
        return Crop(crop, "" if crop is not None else NO_FACE, oriented)
    return Crop(resize_crop(image), "", oriented)
