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


# Drawn faces whose expression shows (mouth, brows, eyes), for the image-database trees of imagedbgen.py.
# Per concept: mouth corner lift, mouth opening, brow inner drop, brow lift, eye opening, smirk (one side).
_LOOK: dict[str, tuple[float, float, float, float, float, float]] = {
    "Neutral": (0.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    "Happiness": (7.0, 2.0, 0.0, 1.0, 0.6, 0.0),
    "Sadness": (-6.0, 0.0, -4.0, 0.0, 0.8, 0.0),
    "Surprise": (0.0, 12.0, 0.0, 7.0, 1.6, 0.0),
    "Fear": (-2.0, 6.0, -3.0, 5.0, 1.5, 0.0),
    "Disgust": (-3.0, 3.0, 3.0, -2.0, 0.5, 0.0),
    "Anger": (-2.0, 0.0, 5.0, -3.0, 0.9, 0.0),
    "Contempt": (0.0, 0.0, 1.0, 0.0, 0.9, 6.0),
    "Other": (3.0, 8.0, 3.0, 3.0, 1.2, -4.0),
}
K = 4  # drawing supersampling


def _canonical_face(concept: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(RGB canvas 112K x 112K with the face on the template, mask of the head) in template coordinates."""
    import cv2

    lift, open_, inner, raise_, eye, smirk = (v * rng.uniform(0.85, 1.15) for v in _LOOK[concept])
    c = 112 * K
    img = np.zeros((c, c, 3), np.uint8)
    skin = tuple(int(v) for v in rng.uniform([150, 110, 90], [235, 190, 160]))
    pt = lambda x, y: (int(round(x * K)), int(round(y * K)))  # noqa: E731
    cv2.ellipse(img, pt(56, 62), (40 * K, 54 * K), 0, 0, 360, skin, -1, cv2.LINE_AA)
    mask = (img.sum(2) > 0).astype(np.uint8)
    dark = (50, 35, 30)
    for (ex, ey), side in zip(TEMPLATE_112[:2], (-1, 1)):
        cv2.ellipse(img, pt(ex, ey), (7 * K, int(3.5 * eye * K)), 0, 0, 360, (250, 250, 250), -1, cv2.LINE_AA)
        cv2.circle(img, pt(ex, ey), int(2.2 * K), dark, -1, cv2.LINE_AA)
        inner_x, outer_x = ex - side * 7, ex + side * 8
        cv2.line(img, pt(inner_x, ey - 10 - raise_ + inner), pt(outer_x, ey - 10 - raise_ - 0.3 * inner), dark,
                 int(2 * K), cv2.LINE_AA)
    nose = TEMPLATE_112[2]
    cv2.line(img, pt(nose[0], nose[1] - 14), pt(nose[0] - 2, nose[1]), (120, 80, 70), K, cv2.LINE_AA)
    (lx, ly), (rx, _) = TEMPLATE_112[3], TEMPLATE_112[4]
    xs = np.linspace(lx, rx, 24)
    u = (xs - lx) / (rx - lx)
    upper = ly - lift * (2 * u - 1) ** 2 - smirk * u - open_ * 0.3 * np.sin(np.pi * u)  # corners lift
    lower = upper + open_ * np.sin(np.pi * u) + 1.0
    poly = np.concatenate([np.stack([xs, upper], 1), np.stack([xs, lower], 1)[::-1]])
    cv2.fillPoly(img, [np.round(poly * K).astype(np.int32)], (150, 40, 50), cv2.LINE_AA)
    return img, mask


def draw_face(concept: str, seed: int = 0, size: int = 160, scale: float = 1.0, angle: float = 0.0,
              shift: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 size x size image of a drawn face showing ``concept``, its 68 landmarks). The face is
    the 112x112 template scaled by ``scale`` * size / 112, turned by ``angle`` and moved by ``shift``
    from the image centre, on a textured background; the landmarks' 5-point reduction is exact."""
    import cv2

    rng = np.random.default_rng(seed)
    face, mask = _canonical_face(concept, rng)
    s = scale * size / 112.0
    centre = np.array([size / 2 + shift[0], size / 2 + shift[1]])
    c, si = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -si], [si, c]]) * s
    m = np.zeros((2, 3))
    m[:, :2] = rot / K
    m[:, 2] = centre - rot @ np.array([56.0, 56.0])
    bg = cv2.GaussianBlur(rng.integers(40, 200, (size // 8 + 1, size // 8 + 1, 3), dtype=np.uint8), (3, 3), 0)
    img = cv2.resize(bg, (size, size), interpolation=cv2.INTER_CUBIC)
    warped = cv2.warpAffine(face, m, (size, size), flags=cv2.INTER_AREA)
    alpha = cv2.warpAffine(mask.astype(np.float32), m, (size, size), flags=cv2.INTER_AREA)[..., None]
    img = (img * (1 - alpha) + warped * alpha).astype(np.uint8)
    five = (TEMPLATE_112 - 56.0) @ rot.T + centre
    return img, landmarks_for(five, seed)
