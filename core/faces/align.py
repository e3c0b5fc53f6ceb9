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
