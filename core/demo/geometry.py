"""The drawn face's 68 iBUG landmarks: a neutral face plus one displacement field per action unit.

Face units are pixels at head scale 1, origin between the eyes, y down. Index 0-16 jaw, 17-26 brows,
27-35 nose, 36-47 eyes (36-41 on the image left), 48-59 outer lips, 60-67 inner lips. Landmarks
of a frame = neutral + sum(weight_au * field_au) + arousal * field_arousal, then a few clamps
that keep lids and lips from crossing, then the head's similarity transform.
"""
from __future__ import annotations

import numpy as np

# Left/right partners for mirroring a half-face definition (index on the image left -> right).
_MIRROR = {**{j: 16 - j for j in range(8)}, 17: 26, 18: 25, 19: 24, 20: 23, 21: 22, 31: 35, 32: 34,
           36: 45, 37: 44, 38: 43, 39: 42, 40: 47, 41: 46, 48: 54, 49: 53, 50: 52, 59: 55, 58: 56,
           60: 64, 61: 63, 67: 65}

JAW_PHI = np.pi * np.arange(17) / 16.0
JAW_CENTRE_Y, JAW_A, JAW_B = 4.0, 44.0, 58.0
SKULL_B = 56.0  # skull top at JAW_CENTRE_Y - SKULL_B


def _symmetric(half: dict[int, tuple[float, float]]) -> np.ndarray:
    """(68, 2) array from points on the image left / centre line; right ones mirrored (x negated)."""
    out = np.zeros((68, 2), np.float32)
    for i, (x, y) in half.items():
        out[i] = (x, y)
        if i in _MIRROR:
            out[_MIRROR[i]] = (-x, y)
    return out


def _neutral() -> np.ndarray:
    c = np.cos(JAW_PHI)
    jaw = {j: (float(-JAW_A * np.sign(c[j]) * abs(c[j]) ** 0.8), float(JAW_CENTRE_Y + JAW_B * np.sin(JAW_PHI[j])))
           for j in range(9)}
    half = {
        **jaw,
        17: (-30.0, -10.5), 18: (-25.0, -14.0), 19: (-19.0, -15.2), 20: (-13.0, -14.5), 21: (-7.5, -12.5),
        27: (0.0, 0.5), 28: (0.0, 7.0), 29: (0.0, 13.0), 30: (0.0, 19.0),
        31: (-7.0, 22.5), 32: (-3.6, 24.0), 33: (0.0, 24.6),
        36: (-25.6, 0.0), 37: (-20.5, -4.2), 38: (-14.7, -4.2), 39: (-9.6, 0.3), 40: (-14.7, 3.0), 41: (-20.5, 3.0),
        48: (-14.6, 40.7), 49: (-9.5, 37.6), 50: (-4.2, 36.0), 51: (0.0, 36.8),
        59: (-9.5, 44.4), 58: (-4.5, 46.2), 57: (0.0, 46.6),
        60: (-12.6, 40.8), 61: (-5.0, 40.0), 62: (0.0, 40.3), 67: (-5.0, 41.0), 66: (0.0, 41.2),
    }
    return _symmetric(half)


NEUTRAL = _neutral()

_HALF_FIELDS: dict[str, dict[int, tuple[float, float]]] = {
    "AU1": {17: (0, -0.5), 18: (0, -1.5), 19: (0, -3.0), 20: (0, -5.0), 21: (0, -6.5)},
    "AU2": {17: (0, -6.5), 18: (0, -5.5), 19: (0, -3.5), 20: (0, -1.5), 21: (0, -0.5)},
    "AU4": {17: (0.5, 2.0), 18: (1.0, 3.0), 19: (1.5, 4.0), 20: (2.5, 5.0), 21: (3.5, 5.5),
            37: (0, 0.8), 38: (0, 0.8)},
    "AU5": {37: (0, -2.6), 38: (0, -2.6)},
    "AU6": {40: (0, -1.6), 41: (0, -1.8)},
    "AU7": {40: (0, -2.2), 41: (0, -2.2), 37: (0, 0.9), 38: (0, 0.9)},
    "AU9": {30: (0, -0.6), 31: (-1.0, -2.0), 32: (0, -2.0), 33: (0, -1.5), 49: (0, -1.0), 50: (0, -1.0),
            51: (0, -1.0), 20: (0, 1.0), 21: (1.0, 1.5)},
    "AU10": {48: (0, -1.0), 49: (0, -3.0), 50: (0, -4.0), 51: (0, -4.0), 60: (0, -1.0), 61: (0, -4.5),
             62: (0, -4.5), 31: (0, -1.0), 32: (0, -0.8)},
    "AU12": {48: (-3.0, -7.0), 60: (-2.6, -6.6), 49: (-1.5, -3.0), 59: (-1.5, -3.5), 61: (-0.5, -1.5),
             67: (-0.5, -1.8), 50: (0, -0.8), 58: (0, -1.5), 51: (0, 0.2), 57: (0, -0.8), 66: (0, -0.8),
             62: (0, -0.3)},
    "AU15": {48: (-0.8, 5.5), 60: (-0.6, 5.2), 49: (0, 2.0), 59: (0, 2.5), 61: (0, 1.0), 67: (0, 1.6),
             58: (0, 1.0), 50: (0, 0.5)},
    "AU20": {48: (-5.5, 1.0), 60: (-5.0, 1.0), 49: (-2.5, 0.5), 59: (-2.5, 0.5), 61: (-1.0, 0), 67: (-1.0, 0),
             50: (-0.5, 0.8), 58: (-0.5, -0.8), 51: (0, 0.8), 57: (0, -1.0)},
    "AU23": {48: (4.5, 0), 60: (4.2, 0), 49: (2.0, 1.2), 50: (0.8, 1.5), 51: (0, 1.5), 59: (2.0, -1.2),
             58: (0.8, -1.8), 57: (0, -1.8), 61: (1.3, 0), 67: (1.3, 0)},
    "AU24": {49: (0.5, 2.2), 50: (0, 2.8), 51: (0, 2.8), 61: (0, 0.6), 62: (0, 0.6), 59: (0.5, -2.2),
             58: (0, -3.0), 57: (0, -3.0), 67: (0, -0.4), 66: (0, -0.4), 48: (1.0, 0), 60: (1.0, 0)},
    "AU25": {49: (0, -1.5), 50: (0, -1.8), 51: (0, -1.8), 61: (0, -1.8), 62: (0, -1.9), 59: (0, 1.5),
             58: (0, 1.9), 57: (0, 2.0), 67: (0, 1.9), 66: (0, 2.0), 60: (0.3, 0)},
    "AU26": {59: (0, 3.5), 58: (0, 5.5), 57: (0, 6.0), 67: (0, 5.5), 66: (0, 6.0), 48: (0, 1.5), 60: (0, 1.5),
             **{j: (0, float(7.0 * np.sin(JAW_PHI[j]) ** 2)) for j in range(9)}},
}


def _fields() -> dict[str, np.ndarray]:
    out = {au: _symmetric(half) for au, half in _HALF_FIELDS.items()}
    # Unilateral dimpler (contempt): the corner on the image right up, the other a little down.
    f = np.zeros((68, 2), np.float32)
    for i, d in {54: (-1.5, -5.5), 64: (-1.5, -5.2), 53: (0, -2.8), 55: (0, -3.0), 63: (0, -1.5),
                 65: (0, -1.7), 48: (1.0, 1.5), 60: (1.0, 1.4), 49: (0, 0.6), 59: (0, 0.6)}.items():
        f[i] = d
    out["AU14"] = f
    return out


FIELDS = _fields()
AROUSAL_FIELD = _symmetric({37: (0, -2.0), 38: (0, -2.0), 40: (0, 0.4), 41: (0, 0.4)})
GAZE_LIMIT = 2.0


def face_landmarks(weight: dict[str, np.ndarray], arousal: np.ndarray) -> np.ndarray:
    """(n, 68, 2) float32 landmarks in face units from per-frame AU weights and arousal."""
    n = len(arousal)
    pts = np.broadcast_to(NEUTRAL, (n, 68, 2)).copy()
    for au, field in FIELDS.items():
        w = weight.get(au)
        if w is not None:
            pts += w[:, None, None] * field
    pts += np.asarray(arousal, np.float32)[:, None, None] * AROUSAL_FIELD
    # Lids never cross (lower lid at least 0.6 below the upper one) ...
    for up, lo in ((37, 41), (38, 40), (43, 47), (44, 46)):
        pts[:, lo, 1] = np.maximum(pts[:, lo, 1], pts[:, up, 1] + 0.6)
    # ... nor do the lips; each lip keeps some thickness.
    for up, lo in ((61, 67), (62, 66), (63, 65)):
        pts[:, lo, 1] = np.maximum(pts[:, lo, 1], pts[:, up, 1])
    for outer, inner in ((49, 61), (50, 61), (51, 62), (52, 63), (53, 63)):
        pts[:, outer, 1] = np.minimum(pts[:, outer, 1], pts[:, inner, 1] - 1.5)
    for outer, inner in ((59, 67), (58, 67), (57, 66), (56, 65), (55, 65)):
        pts[:, outer, 1] = np.maximum(pts[:, outer, 1], pts[:, inner, 1] + 1.8)
    return pts


def head_transform(head: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame similarity (n, 2, 2) matrix and (n, 2) offset mapping face units to image pixels.

    ``head`` rows are dx, dy (fractions of the frame), rotation (degrees), scale factor."""
    w, h = size
    base = min(w / 320.0, h / 240.0) * 1.25
    s = base * head[:, 3]
    r = np.deg2rad(head[:, 2])
    m = np.stack([np.stack([np.cos(r), -np.sin(r)], 1), np.stack([np.sin(r), np.cos(r)], 1)], 1) * s[:, None, None]
    # The face's centre (eyes to chin) sits a little below the frame centre.
    off = np.stack([w * (0.5 + head[:, 0]), h * (0.44 + head[:, 1])], 1)
    return m.astype(np.float32), off.astype(np.float32)


def to_image(pts: np.ndarray, m: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Apply per-frame similarity: pts (n, p, 2) face units -> (n, p, 2) pixels."""
    return (np.einsum("nij,npj->npi", m, pts) + off[:, None, :]).astype(np.float32)
