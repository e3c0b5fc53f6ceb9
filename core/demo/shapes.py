"""Every polygon, line, circle and colour of every demo frame, computed at once with numpy.

Shapes are built in face units from the landmarks (geometry.py) and fixed outlines, transformed
to pixels by the same per-frame similarity as the landmarks, and kept as fixed-point int32 so the
renderer only calls OpenCV.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .geometry import JAW_A, JAW_CENTRE_Y, SKULL_B, to_image

SHIFT = 4
ONE = 1 << SHIFT

_NEUTRAL_SKIN = np.array([218, 182, 156.0])
_WARM_SKIN = np.array([238, 168, 140.0])
_COOL_SKIN = np.array([160, 184, 180.0])
_WARM_LIP = np.array([200, 80, 92.0])
_COOL_LIP = np.array([150, 108, 128.0])
_DARK = np.array([60, 36, 30.0])
_PINK = np.array([236, 110, 125.0])
# The same actor in every demo (models trained on one seed meet this face again on another seed).
_HAIR, _IRIS, _SHIRT = [62.0, 42, 30], [96.0, 72, 48], [70.0, 110, 150]


def skin_colour(va: np.ndarray) -> np.ndarray:
    """(n, 3) RGB float skin colour from (n, 2) valence-arousal."""
    v, a = va[:, :1].astype(float), va[:, 1:].astype(float)
    warm, cool = (_WARM_SKIN - _NEUTRAL_SKIN) * np.maximum(v, 0), (_COOL_SKIN - _NEUTRAL_SKIN) * np.maximum(-v, 0)
    c = _NEUTRAL_SKIN + warm + cool
    grey = c.mean(axis=1, keepdims=True)
    c = grey + (c - grey) * (1.0 + 0.45 * a)  # aroused: more saturated ...
    return np.clip(c * (0.88 + 0.12 * a), 0, 255)  # ... and lighter


def _mix(c1: np.ndarray, c2: np.ndarray, w: np.ndarray | float) -> np.ndarray:
    weight: np.ndarray = np.clip(np.asarray(w, float), 0, 1)
    return c1 + (c2 - c1) * (weight[:, None] if weight.ndim else weight)


def _ellipse(cx: float, cy: float, ax: float, ay: float, k: int = 16) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, k, endpoint=False)
    return np.stack([cx + ax * np.cos(t), cy + ay * np.sin(t)], 1).astype(np.float32)


_T = np.linspace(0.0, -np.pi, 21)
SKULL = np.stack([JAW_A * np.cos(_T), JAW_CENTRE_Y + SKULL_B * np.sin(_T)], 1).astype(np.float32)
_TH = np.linspace(0.12, -np.pi - 0.12, 21)
HAIR = np.concatenate([
    np.stack([1.05 * JAW_A * np.cos(_TH), JAW_CENTRE_Y + 1.05 * SKULL_B * np.sin(_TH)], 1),
    np.array([[-43, -4], [-37, -24], [-22, -32], [-8, -34.5], [0, -33], [10, -35], [24, -32], [37, -24], [43, -4]]),
]).astype(np.float32)
NECK = np.array([[-19, 40], [19, 40], [22, 110], [-22, 110]], np.float32)
SHIRT = np.array([[-22, 88], [22, 88], [95, 120], [100, 200], [-100, 200], [-95, 120]], np.float32)
_FIXED_LINES: dict[str, list[list[list[float]]]] = {
    "au1": [[[-11, -21], [0, -23], [11, -21]], [[-11, -25], [0, -27], [11, -25]]],
    "au2": [[[s * 29, -18 - 4 * k], [s * 21, -21 - 4 * k], [s * 13, -20 - 4 * k]] for s in (-1, 1) for k in range(2)],
    "au4": [[[s * 2.6, -15.0], [s * 2.0, -5.5]] for s in (-1, 1)],
    "au9": [[[-3.2, y], [0, y - 0.8], [3.2, y]] for y in (4.0, 6.5, 9.0)],
}
_CROWS_FEET: list[tuple[list[float], list[float]]] = [
    ([28, -1.5], [33, -4]), ([28.5, 0.5], [34, 0.8]), ([28, 2.5], [32.5, 5.5])]
_CHEEK = np.array([[28, 9], [22, 11], [16, 11.5], [10.5, 9.5]], np.float32)
_THICK = {"thin": 1.0, "fold": 1.2, "crease": 1.6, "lash": 1.4, "brow": 2.6}


class FrameShapes:
    """Shapes (fixed-point pixels), colours, visibility and line widths of every frame."""

    def __init__(self, face_pts: np.ndarray, m: np.ndarray, off: np.ndarray, weight: dict[str, np.ndarray],
                 va: np.ndarray, gaze: np.ndarray) -> None:
        n = len(face_pts)
        self.n = n
        f = face_pts
        shapes: dict[str, np.ndarray] = {}

        def fixed(a: ArrayLike) -> np.ndarray:
            return np.broadcast_to(np.asarray(a, np.float32), (n,) + np.shape(a))

        shapes["landmarks"] = f
        shapes["neck"], shapes["shirt"], shapes["hair"] = fixed(NECK), fixed(SHIRT), fixed(HAIR)
        shapes["ear_l"] = fixed(_ellipse(-JAW_A - 1, 6, 5.5, 11))
        shapes["ear_r"] = fixed(_ellipse(JAW_A + 1, 6, 5.5, 11))
        shapes["head"] = np.concatenate([f[:, 0:17], fixed(SKULL)], 1)
        shapes["blush"] = fixed([[-22.0, 15.0], [22.0, 15.0]])
        shapes["shine"] = fixed(_ellipse(0.0, -29.0, 11.0, 3.5))
        self.count: dict[str, int] = {}
        for name, lines in _FIXED_LINES.items():
            self.count[name] = len(lines)
            for k, pts in enumerate(lines):
                shapes[f"{name}_{k}"] = fixed(pts)
        # contempt (drawn AU14) comes with a sideways eye-roll
        gaze = gaze + weight["AU14"][:, None] * np.array([2.6, -1.6], np.float32)
        for side, sl in (("l", slice(36, 42)), ("r", slice(42, 48))):
            e = f[:, sl]
            shapes[f"eye_{side}"] = e
            shapes[f"iris_{side}"] = (0.5 * (e[:, 0] + e[:, 3]) + gaze)[:, None]
            up7, down6 = np.array([0, 7.0], np.float32), np.array([0, 6.0], np.float32)
            shapes[f"lid_up_{side}"] = np.concatenate(
                [e[:, 0:4], (e[:, 3] - up7)[:, None], (e[:, 0] - up7)[:, None]], 1)
            shapes[f"lid_lo_{side}"] = np.concatenate(
                [e[:, [3, 4, 5, 0]], (e[:, 0] + down6)[:, None], (e[:, 3] + down6)[:, None]], 1)
            shapes[f"lash_{side}"] = e[:, 0:4]
            shapes[f"lower_lid_{side}"] = e[:, [3, 4, 5, 0]]
        au6 = weight["AU6"][:, None, None]
        cheeks = [fixed(_CHEEK * [s, 1]) - au6 * np.array([0, 2.0], np.float32) for s in (-1, 1)]
        feet = [fixed([[s * p0[0], p0[1]], [s * p1[0], p1[1]]]) for s in (-1, 1) for p0, p1 in _CROWS_FEET]
        self.count["au6"] = len(cheeks) + len(feet)
        for k, pts in enumerate(cheeks + feet):
            shapes[f"au6_{k}"] = pts
        shapes["brow_l"], shapes["brow_r"] = f[:, 17:22], f[:, 22:27]
        shapes["bridge"] = fixed([[-2.6, 3.0], [-3.2, 16.0]])
        shapes["ala_l"] = np.concatenate([f[:, 31:32], fixed([[-8.0, 19.0], [-6.0, 16.5]])], 1)
        shapes["ala_r"] = np.concatenate([f[:, 35:36], fixed([[8.0, 19.0], [6.0, 16.5]])], 1)
        for side, i0, i1 in (("l", 32, 33), ("r", 34, 33)):
            c = 0.5 * (f[:, i0] + f[:, i1]) - np.array([0, 0.6], np.float32)
            shapes[f"nostril_{side}"] = c[:, None] + _ellipse(0, 0, 1.6, 0.9, 10)[None]
        shapes["nostrils"] = f[:, 31:36]
        for side, s, nose, corner in (("l", -1, 31, 48), ("r", 1, 35, 54)):
            shapes[f"nasolabial_{side}"] = np.stack(
                [f[:, nose] + [s * 1.5, -1.0], f[:, nose] + [s * 5.0, 6.0], f[:, corner] + [s * 2.5, -1.5]], 1)
        shapes["lips"] = f[:, 48:60]
        shapes["mouth"] = f[:, 60:68]
        upper_in = f[:, 60:65]
        lower_in = f[:, [60, 67, 66, 65, 64]]  # left -> right, like upper_in
        low = upper_in.copy()
        low[..., 1] = np.minimum(upper_in[..., 1] + 3.2, lower_in[..., 1])
        shapes["teeth_up"] = np.concatenate([upper_in, low[:, ::-1]], 1)
        top = lower_in.copy()
        top[..., 1] = np.maximum(lower_in[..., 1] - 2.2, upper_in[..., 1] + 3.2)
        shapes["teeth_lo"] = np.concatenate([lower_in, top[:, ::-1]], 1)
        shapes["lip_line"] = upper_in
        shapes["chin_crease"] = f[:, 57:58] + np.array([[-6.0, 5.5], [0.0, 7.0], [6.0, 5.5]], np.float32)
        shapes["lip_bulge"] = f[:, 51:52] + np.array([[-6.0, -2.5], [0.0, -3.8], [6.0, -2.5]], np.float32)
        shapes["dimple"] = f[:, 54:55] + np.array([[1.5, -3.0], [2.8, -0.5], [2.0, 2.0]], np.float32)
        shapes["jaw"] = f[:, 0:17]

        names = list(shapes)
        sizes = [shapes[k].shape[1] for k in names]
        img = to_image(np.concatenate([np.asarray(shapes[k], np.float32) for k in names], 1), m, off)
        self.landmarks = np.ascontiguousarray(img[:, :68])
        fixed_pt = np.round(img * ONE).astype(np.int32)
        self.pts: dict[str, np.ndarray] = {}
        start = 0
        for name, p in zip(names, sizes):
            self.pts[name] = np.ascontiguousarray(fixed_pt[:, start:start + p])
            start += p

        scale = np.hypot(m[:, 0, 0], m[:, 1, 0]).astype(float)
        a = va[:, 1].astype(float)
        self.radius = {"iris": np.round(3.7 * scale * ONE), "pupil": np.round((0.9 + 0.8 * (a + 1)) * scale * ONE),
                       "blush": np.round(7.5 * scale * ONE)}
        lower = 0.8 + 1.0 * weight["AU7"]
        widths = {k: np.full(n, t) for k, t in _THICK.items()} | {"lower_lid": lower}
        self.thickness_index = {k: j for j, k in enumerate(widths)}
        self.thickness = np.maximum(1, np.round(np.stack([widths[k] * scale for k in widths], 1))).astype(int)

        skin = skin_colour(va)
        v = va[:, 0].astype(float)
        lip = _WARM_LIP + (_COOL_LIP - _WARM_LIP) * ((1.0 - v) / 2.0)[:, None]
        lip = lip * (1.0 - 0.35 * weight["AU23"].astype(float))[:, None]
        nl = np.minimum(1.0, weight["AU12"] + 0.6 * weight["AU10"])
        hair = np.array(_HAIR)
        const = lambda c: np.broadcast_to(np.asarray(c, float), (n, 3))  # noqa: E731
        colours = {
            "skin": skin, "shine": _mix(skin, np.array([255.0, 250, 240]), 0.5 * (a + 1) / 2),
            "neck": _mix(skin, _DARK, 0.15), "shade": _mix(skin, _DARK, 0.25),
            "shirt": const(_SHIRT), "hair": const(hair), "brow": const(hair * 0.8),
            "blush": _mix(skin, _PINK, 0.55 * np.maximum(v, 0)),
            "eye_white": const([246, 246, 240]), "pupil": const([12, 10, 12]),
            "iris": const(_IRIS),
            "lash": const([40, 28, 26]), "lower_lid": _mix(skin, _DARK, 0.45 + 0.45 * weight["AU7"]),
            "nose": _mix(skin, _DARK, 0.2), "nostril": _mix(skin, _DARK, 0.7),
            "nostril_line": _mix(skin, _DARK, 0.45), "nasolabial": _mix(skin, _DARK, 0.6 * nl),
            "lip": _mix(lip, skin, 0.6 * weight["AU24"]), "mouth": const([58, 22, 28]),
            "teeth": const([246, 244, 232]), "lip_line": _mix(lip, _DARK, 0.6), "lip_edge": _mix(lip, _DARK, 0.35),
            "jaw": _mix(skin, _DARK, 0.3),
        }
        for au in ("AU1", "AU2", "AU4", "AU6", "AU9", "AU14", "AU24"):
            colours[au] = _mix(skin, _DARK, (0.75 if au in ("AU14", "AU24") else 0.6) * weight[au])
        self.colour_index = {k: j for j, k in enumerate(colours)}
        self.colours = np.clip(np.stack([colours[k] for k in colours], 1), 0, 255).astype(np.uint8)

        gap = (f[:, [67, 66, 65], 1] - f[:, [61, 62, 63], 1]).max(axis=1)
        vis = {"blush": v > 0.02, "nasolabial": nl > 0.05, "open": gap > 1.2, "wide": gap > 6.5}
        vis |= {au: weight[au] > 0.05 for au in ("AU1", "AU2", "AU4", "AU6", "AU9", "AU14", "AU24")}
        keys = list(vis)
        table = np.stack([vis[k] for k in keys], 1).tolist()
        self.visible = [dict(zip(keys, row)) for row in table]

    def box(self) -> np.ndarray:
        """(n, 4) float32 face boxes x0, y0, x1, y1: jaw sides, chin, and the forehead above the brows."""
        lm = self.landmarks
        x0, x1 = lm[:, :17, 0].min(1), lm[:, :17, 0].max(1)
        chin = lm[:, :17, 1].max(1)
        brow = lm[:, 17:27, 1].min(1)
        top = brow - 0.3 * (chin - brow)
        return np.stack([x0, top, x1, chin], 1).astype(np.float32)
