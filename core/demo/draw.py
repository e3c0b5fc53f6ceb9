"""Rendering the demo face with OpenCV: every shape follows the frame's landmarks and AU weights.

Valence tints the skin (cool grey-green when negative, warm rosy with blush when positive) and the
lips; arousal sets the skin's lightness, saturation and forehead shine, the eye opening (in the
landmarks) and the pupil size. Action units move landmarks (geometry.py) and switch on wrinkles, teeth and creases.
All shapes of all frames are built and transformed at once (shapes.py); drawing a frame is then
only OpenCV calls on precomputed fixed-point polygons.
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .shapes import SHIFT, FrameShapes

_AA = cv2.LINE_AA


def make_background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A muted textured RGB background 80 % larger than the frame (the camera pans over it)."""
    w, h = size
    bw, bh = int(w * 1.8), int(h * 1.8)
    img: np.ndarray = np.zeros((bh, bw, 3), np.float32) + rng.uniform(90, 170) + rng.normal(0, 12, size=3)
    for cells, amp, colour in ((3, 40.0, 0.5), (9, 28.0, 0.3), (40, 14.0, 0.15)):
        cols = int(cells * bw / bh) + 1
        grey = rng.normal(0, 1, size=(cells, cols, 1))
        tint = rng.normal(0, 1, size=(cells, cols, 3))
        noise = ((1 - colour) * grey + colour * tint).astype(np.float32)
        img += amp * cv2.resize(noise, (bw, bh), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(6, 12))):  # furniture-like blocks and a few round things
        col = tuple(float(x) for x in 0.5 * rng.uniform(40, 215, size=3) + 0.5 * rng.uniform(60, 190))
        x0, y0 = int(rng.integers(0, bw)), int(rng.integers(0, bh))
        if rng.random() < 0.7:
            cv2.rectangle(img, (x0, y0), (x0 + int(rng.integers(15, bw // 3)), y0 + int(rng.integers(15, bh // 3))),
                          col, -1)
        else:
            cv2.circle(img, (x0, y0), int(rng.integers(8, bh // 6)), col, -1, _AA)
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    grain = rng.normal(0, 5, size=img.shape).astype(np.float32)
    return np.clip(img + grain, 0, 255).astype(np.uint8)


class FaceRenderer:
    """Draws frame i of a demo video from precomputed shapes (see shapes.FrameShapes)."""

    def __init__(self, size: tuple[int, int], rng: np.random.Generator, shapes: FrameShapes, fps: float) -> None:
        self.size = size
        self.background = make_background(size, rng)
        self.sh = shapes
        n = shapes.n
        t = np.arange(n) / fps
        bh, bw = self.background.shape[:2]
        pan = rng.uniform(0, 2 * np.pi, size=2)
        self.bg_x = ((bw - size[0]) * (0.5 + 0.5 * np.sin(0.05 * t + pan[0]))).astype(int)
        self.bg_y = ((bh - size[1]) * (0.5 + 0.5 * np.sin(0.037 * t + pan[1]))).astype(int)

    def frame(self, i: int) -> np.ndarray:
        """RGB uint8 (H, W, 3) of frame i."""
        w, h = self.size
        x, y = self.bg_x[i], self.bg_y[i]
        img = np.ascontiguousarray(self.background[y:y + h, x:x + w])
        P = self.sh.pts  # name -> (n, p, 2) int32 fixed point
        C = self.sh.colours[i].tolist()  # per-frame colour table
        ci = self.sh.colour_index
        on = self.sh.visible[i]
        th = self.sh.thickness[i].tolist()
        ti = self.sh.thickness_index

        def fill(name: str, colour: str) -> None:
            cv2.fillPoly(img, [P[name][i]], C[ci[colour]], _AA, SHIFT)

        def line(name: str, colour: str, thick: str, closed: bool = False) -> None:
            cv2.polylines(img, [P[name][i]], closed, C[ci[colour]], th[ti[thick]], _AA, SHIFT)

        fill("neck", "neck")
        fill("shirt", "shirt")
        fill("ear_l", "shade")
        fill("ear_r", "shade")
        fill("head", "skin")
        fill("shine", "shine")  # forehead shine: brighter when aroused
        fill("hair", "hair")
        if on["blush"]:
            for c in P["blush"][i]:
                cv2.circle(img, (int(c[0]), int(c[1])), int(self.sh.radius["blush"][i]), C[ci["blush"]], -1, _AA, SHIFT)
        for name, colour in (("au1", "AU1"), ("au2", "AU2"), ("au4", "AU4"), ("au9", "AU9")):
            if on[colour]:
                for k in range(self.sh.count[name]):
                    line(f"{name}_{k}", colour, "thin" if name != "au4" else "fold")
        for side in ("l", "r"):
            fill(f"eye_{side}", "eye_white")
            c = P[f"iris_{side}"][i][0]
            cv2.circle(img, (int(c[0]), int(c[1])), int(self.sh.radius["iris"][i]), C[ci["iris"]], -1, _AA, SHIFT)
            cv2.circle(img, (int(c[0]), int(c[1])), int(self.sh.radius["pupil"][i]), C[ci["pupil"]], -1, _AA, SHIFT)
            fill(f"lid_up_{side}", "skin")
            fill(f"lid_lo_{side}", "skin")
            line(f"lash_{side}", "lash", "lash")
            line(f"lower_lid_{side}", "lower_lid", "lower_lid")
        if on["AU6"]:
            for k in range(self.sh.count["au6"]):
                line(f"au6_{k}", "AU6", "fold" if k < 2 else "thin")
        line("brow_l", "brow", "brow")
        line("brow_r", "brow", "brow")
        line("bridge", "nose", "thin")
        line("ala_l", "shade", "thin")
        line("ala_r", "shade", "thin")
        fill("nostril_l", "nostril")
        fill("nostril_r", "nostril")
        line("nostrils", "nostril_line", "thin")
        if on["nasolabial"]:
            line("nasolabial_l", "nasolabial", "fold")
            line("nasolabial_r", "nasolabial", "fold")
        _mouth(on, fill, line)
        line("jaw", "jaw", "thin")
        return img


def _mouth(on: dict[str, bool], fill: Callable[[str, str], None], line: Callable[..., None]) -> None:
    """Lips, the open mouth with its teeth, and the AU24/AU14 folds around it."""
    fill("lips", "lip")
    if on["open"]:
        fill("mouth", "mouth")
        fill("teeth_up", "teeth")
        if on["wide"]:
            fill("teeth_lo", "teeth")
    line("lip_line", "lip_line", "thin")
    line("lips", "lip_edge", "thin", closed=True)
    if on["AU24"]:
        line("chin_crease", "AU24", "crease")
        line("lip_bulge", "AU24", "fold")
    if on["AU14"]:
        line("dimple", "AU14", "crease")
