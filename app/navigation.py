"""Where to jump next: the next unlabelled frame of a track, the next frame where annotators disagree."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from core.labels import AU_MISSING, EXPR_MISSING
from core.tracks import Track

VA_DISAGREEMENT = 0.5  # |difference| in valence or arousal counted as a disagreement


def next_unlabelled(track: Track, task: str, after: int) -> int | None:
    """First frame > ``after`` not labelled for ``task`` (wrapping to the start), None when all are."""
    missing = ~track.labelled(task)
    idx = np.flatnonzero(missing[after + 1:])
    if len(idx):
        return int(after + 1 + idx[0])
    idx = np.flatnonzero(missing[: after + 1])
    return int(idx[0]) if len(idx) else None


def disagreement(tracks: Sequence[Track], task: str, va_threshold: float = VA_DISAGREEMENT) -> np.ndarray:
    """(n,) bool: frames where at least two tracks labelled the frame and disagree."""
    if len(tracks) < 2:
        return np.zeros(tracks[0].n_frames if tracks else 0, bool)
    n = min(t.n_frames for t in tracks)
    if task == "va":
        va = np.stack([t.va[:n] for t in tracks])  # (m, n, 2)
        with np.errstate(all="ignore"):
            spread = np.nanmax(va, axis=0) - np.nanmin(va, axis=0)
        count = (~np.isnan(va).any(axis=2)).sum(axis=0)
        return (count >= 2) & (np.nan_to_num(spread, nan=0.0).max(axis=1) > va_threshold)
    if task == "expr":
        e = np.stack([t.expr[:n].astype(np.int16) for t in tracks])
        lab = e != EXPR_MISSING
        lo = np.where(lab, e, 99).min(axis=0)
        hi = np.where(lab, e, -99).max(axis=0)
        return (lab.sum(axis=0) >= 2) & (lo != hi)
    if task == "au":
        a = np.stack([t.au[:n].astype(np.int16) for t in tracks])  # (m, n, k)
        lab = a != AU_MISSING
        lo = np.where(lab, a, 99).min(axis=0)
        hi = np.where(lab, a, -99).max(axis=0)
        return ((lab.sum(axis=0) >= 2) & (lo != hi)).any(axis=1)
    raise ValueError(f"unknown task {task!r}")


def next_disagreement(tracks: Sequence[Track], task: str, after: int) -> int | None:
    """Start of the next disagreeing stretch after ``after`` (wrapping), None when they agree everywhere."""
    d = disagreement(tracks, task)
    if not d.any():
        return None
    starts = np.flatnonzero(d & ~np.concatenate([[False], d[:-1]]))
    later = starts[starts > after]
    return int(later[0] if len(later) else starts[0])
