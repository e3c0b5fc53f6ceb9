"""Per-frame training targets and masks from a Track (numpy; the datasets turn them into tensors)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..labels import AU_MISSING, EXPR_MISSING, TASKS
from ..tracks import Track


@dataclass
class Targets:
    """Arrays over the frames of one video. Unlabelled: va 0 (mask False), expr -1, au -1."""

    va: np.ndarray  # (n, 2) float32
    va_mask: np.ndarray  # (n,) bool
    expr: np.ndarray  # (n,) int64
    expr_mask: np.ndarray  # (n,) bool
    au: np.ndarray  # (n, k) float32
    au_mask: np.ndarray  # (n,) bool: every AU of the set labelled

    @property
    def n_frames(self) -> int:
        return len(self.va)

    def any_label(self) -> np.ndarray:
        return self.va_mask | self.expr_mask | self.au_mask

    def only(self, keep: np.ndarray) -> "Targets":
        """The same targets with every frame outside ``keep`` (bool, per frame) unlabelled."""
        keep = np.asarray(keep, bool)[: self.n_frames]
        keep = np.concatenate([keep, np.zeros(self.n_frames - len(keep), bool)])
        return Targets(self.va, self.va_mask & keep, self.expr, self.expr_mask & keep, self.au, self.au_mask & keep)


def targets_from_track(track: Track, tasks: tuple[str, ...] | list[str], au_names: tuple[str, ...] | list[str],
                       n_frames: int | None = None) -> Targets:
    """Targets for ``tasks`` (others fully masked) in the AU order ``au_names`` (AUs the track lacks are
    unlabelled). ``n_frames`` pads or cuts the track to the video length (label files may be off by a few)."""
    bad = [t for t in tasks if t not in TASKS]
    if bad:
        raise ValueError(f"unknown tasks {bad}; expected a subset of {TASKS}")
    n = track.n_frames if n_frames is None else int(n_frames)
    m = min(n, track.n_frames)
    k = len(au_names)
    va = np.zeros((n, 2), np.float32)
    va_mask = np.zeros(n, bool)
    expr = np.full(n, EXPR_MISSING, np.int64)
    au = np.full((n, k), AU_MISSING, np.float32)
    if "va" in tasks:
        v = track.va[:m]
        va_mask[:m] = ~np.isnan(v).any(axis=1)
        va[:m][va_mask[:m]] = v[va_mask[:m]]
    if "expr" in tasks:
        expr[:m] = track.expr[:m].astype(np.int64)
    if "au" in tasks and k:
        col = {name: j for j, name in enumerate(track.au_names)}
        for j, name in enumerate(au_names):
            if name in col:
                au[:m, j] = track.au[:m, col[name]]
    expr_mask = expr != EXPR_MISSING
    au_mask = (au != AU_MISSING).all(axis=1) if k and "au" in tasks else np.zeros(n, bool)
    return Targets(va, va_mask, expr, expr_mask, au, au_mask)
