"""Synthetic 68-point landmark sets with known 5-point reductions, for face-pipeline tests."""
from __future__ import annotations

import numpy as np

from core.faces.align import TEMPLATE_112


def similarity(points: np.ndarray, scale: float, angle: float, shift: tuple[float, float]) -> np.ndarray:
    """Rotate by ``angle`` (radians), scale and shift (n, 2) points."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return np.asarray(points, np.float64) @ rot.T * scale + np.asarray(shift, np.float64)


def landmarks_for(five: np.ndarray, seed: int = 0) -> np.ndarray:
    """(68, 2) iBUG-ordered points whose 5-point reduction is exactly ``five``: each eye's six points sit
    symmetrically around its centre; the other points are scattered over the face."""
    five = np.asarray(five, np.float64)
    rng = np.random.default_rng(seed)
    centre = five.mean(axis=0)
    size = np.linalg.norm(five[1] - five[0])
    lm = centre + rng.uniform(-size, size, size=(68, 2))
    ring = np.stack([np.cos(np.arange(6) * np.pi / 3), np.sin(np.arange(6) * np.pi / 3)], axis=1) * 0.15 * size
    lm[36:42] = five[0] + ring
    lm[42:48] = five[1] + ring
    lm[30], lm[48], lm[54] = five[2], five[3], five[4]
    return lm.astype(np.float32)


def face_at(scale: float, angle: float, shift: tuple[float, float], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(landmarks68, five points) of a face that is the template moved by the given similarity."""
    five = similarity(TEMPLATE_112 - 56.0, scale, angle, shift)
    return landmarks_for(five, seed), five
