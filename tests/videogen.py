"""Test videos whose pixels carry their own frame index, and the decoder for it.

The top half of each frame is an 8x4 grid of flat black/white cells: rows 0-1 are the 16 bits of
the index, rows 2-3 their complement (so a misread is detected, not mistaken for another frame).
The bottom half is a texture that moves every frame, so encoders make real P/B-frames.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from core.media import write_video

BITS = 16


def _texture(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(1234)
    coarse = rng.integers(0, 256, size=(height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    tex = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)[:height, :width]
    return tex


def index_frame(i: int, size: tuple[int, int] = (160, 128), _tex: dict = {}) -> np.ndarray:
    """The RGB frame (H, W, 3) for index ``i`` (0 <= i < 65536); size is (width, height)."""
    width, height = size
    key = (width, height)
    if key not in _tex:
        _tex[key] = _texture(width, height)
    frame = np.empty((height, width, 3), dtype=np.uint8)
    half = height // 2
    cell_w, cell_h = width // 8, half // 4
    bits = [(i >> b) & 1 for b in range(BITS)]
    frame[:half] = 128
    for b, bit in enumerate(bits):
        row, col = divmod(b, 8)
        for r, value in ((row, bit), (row + 2, 1 - bit)):
            frame[r * cell_h:(r + 1) * cell_h, col * cell_w:(col + 1) * cell_w] = 255 if value else 0
    frame[half:] = np.roll(_tex[key][half:], shift=3 * i, axis=1)
    return frame


def decode_index(frame: np.ndarray) -> int:
    """The index drawn into ``frame`` by :func:`index_frame`; ValueError when the code is damaged."""
    height, width = frame.shape[:2]
    half = height // 2
    cell_w, cell_h = width // 8, half // 4
    gray = frame[:half].astype(np.float32).mean(axis=2)
    value = 0
    for b in range(BITS):
        row, col = divmod(b, 8)
        means = []
        for r in (row, row + 2):
            y0, x0 = r * cell_h + cell_h // 4, col * cell_w + cell_w // 4
            means.append(gray[y0:y0 + cell_h // 2, x0:x0 + cell_w // 2].mean())
        bit, inverse = means[0] > 127, means[1] > 127
        if bit == inverse or abs(means[0] - means[1]) < 100:
            raise ValueError(f"frame code damaged at bit {b} (cell means {means[0]:.0f}, {means[1]:.0f})")
        value |= int(bit) << b
    return value


def frames(n: int, size: tuple[int, int] = (160, 128)) -> Iterator[np.ndarray]:
    for i in range(n):
        yield index_frame(i, size)


def tone_bursts(n_frames: int, fps: Fraction, rate: int, marked: list[int]) -> np.ndarray:
    """Mono audio of silence with a 20 ms 1 kHz burst starting exactly at each marked frame's time."""
    total = int(round(n_frames / fps * rate))
    audio = np.zeros(total, dtype=np.float32)
    burst = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(int(0.02 * rate)) / rate)).astype(np.float32)
    for k in marked:
        s = int(round(Fraction(k) / fps * rate))
        audio[s:s + burst.size] = burst[:max(0, total - s)]
    return audio


def burst_onsets(audio: np.ndarray, rate: int, threshold: float = 0.1) -> list[int]:
    """Sample indices where bursts start (first loud sample after >= 30 ms of quiet)."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return []
    starts = np.concatenate([[0], np.flatnonzero(np.diff(loud) > int(0.03 * rate)) + 1])
    return [int(s) for s in loud[starts]]


def make_video(path: str | Path, n: int = 48, fps: Fraction | str | int = 25, codec: str = "h264",
               size: tuple[int, int] = (160, 128), **opts) -> Path:
    """Write an index-coded video; ``opts`` go to :func:`core.media.write_video` (gop, bframes, audio...)."""
    return write_video(path, frames(n, size), fps, codec=codec, **opts)
