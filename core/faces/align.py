"""68 iBUG landmarks -> 5 points -> similarity warp onto the 112x112 template (SPEC.md, Face preprocessing)."""
from __future__ import annotations

import cv2
import numpy as np

CROP_SIZE = 112
# Left eye centre, right eye centre, nose tip, left and right mouth corners, in 112x112 crop pixels.
TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def five_points(landmarks68: np.ndarray) -> np.ndarray:
    """(68, 2) iBUG landmarks -> (5, 2): eye centres (36-41, 42-47), nose tip 30, mouth corners 48 and 54."""
    lm = np.asarray(landmarks68, dtype=np.float64)
    if lm.shape != (68, 2):
        raise ValueError(f"expected (68, 2) landmarks, got {lm.shape}")
    return np.stack([lm[36:42].mean(axis=0), lm[42:48].mean(axis=0), lm[30], lm[48], lm[54]])


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src to dst (Umeyama 1991).

    Returns the 2x3 matrix M with dst ~= src @ M[:, :2].T + M[:, 2].
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s_c, d_c = src - mu_s, dst - mu_d
    var_s = (s_c ** 2).sum() / len(src)
    cov = d_c.T @ s_c / len(src)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # a reflection is not a similarity
        fix[1, 1] = -1.0
    rot = u @ fix @ vt
    scale = (sig * np.diag(fix)).sum() / var_s if var_s > 0 else 1.0
    m = np.empty((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def alignment_matrix(landmarks68: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """The 2x3 matrix taking image pixels to a size x size aligned crop (template scaled from 112)."""
    return similarity_transform(five_points(landmarks68), TEMPLATE_112 * (size / CROP_SIZE))


def warp_face(image: np.ndarray, landmarks68: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """The aligned size x size crop (same channels and dtype as ``image``); outside the frame is black."""
    m = alignment_matrix(landmarks68, size)
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def transform_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine matrix to (n, 2) points."""
    p = np.asarray(points, dtype=np.float64)
    return p @ m[:, :2].T + m[:, 2]


def geometry_problem(points: np.ndarray | None = None, box: tuple[float, float, float, float] | None = None,
                     shape: tuple[int, ...] | None = None) -> str | None:
    """Why face points (68 or 5, image pixels) or a face box (x, y, w, h) cannot place a face, or None:
    not finite, all (nearly) at one spot, or (given the image ``shape``) lying outside the image. Such
    geometry would give a black, blurred or meaningless crop."""
    if points is not None:
        pts = np.asarray(points, np.float64)
        if not np.isfinite(pts).all():
            return "landmarks are not finite numbers (NaN or infinite)"
        five = five_points(pts) if pts.shape == (68, 2) else pts
        spread = float(np.ptp(five, axis=0).max())
        if spread < 2.0:
            return "landmarks coincide (they span less than 2 pixels)"
        if shape is not None and not _inside(pts.min(0), pts.max(0), shape):
            return f"landmarks lie outside the {shape[1]}x{shape[0]} image"
    if box is not None:
        b = np.asarray(box, np.float64)
        if not np.isfinite(b).all():
            return "face box is not finite numbers (NaN or infinite)"
        if b[2] < 2 or b[3] < 2:
            return f"face box {b[2]:g}x{b[3]:g} is empty (under 2 pixels)"
        if shape is not None and not _inside(b[:2], b[:2] + b[2:], shape):
            return f"face box lies outside the {shape[1]}x{shape[0]} image"
    return None


def _inside(lo: np.ndarray, hi: np.ndarray, shape: tuple[int, ...]) -> bool:
    """The span lo..hi (x, y) overlaps the image and reaches at most one image size beyond its edges
    (a face partly out of frame is fine; coordinates of another scale are not)."""
    h, w = shape[0], shape[1]
    return bool(hi[0] > 0 and hi[1] > 0 and lo[0] < w and lo[1] < h
                and lo[0] > -w and lo[1] > -h and hi[0] < 2 * w and hi[1] < 2 * h)
