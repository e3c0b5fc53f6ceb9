"""Sliding-window agreement between a track and its reference, its worst segments, and "next
disagreement". Vectorised with cumulative sums: every frame's window costs O(1), so an hour of video
at 30 fps (108 000 frames) takes milliseconds (bench/compare_series.py).

The value at frame i is the agreement over the window of ``window`` frames centred on i (cut at the
ends of the video), on the frames both tracks label:
  VA    CCC (population statistics, as core.metrics.ccc) of valence, of arousal, or their mean;
  EXPR  macro F1 over the classes present in the window in either track (as core.metrics.expr_scores);
  AU    mean binary F1 over the AUs positive in the window in either track; a window where both tracks
        say no AU at all agrees fully (1.0): unlike the whole-video ABAW figure, agreeing on absence
        counts here.
NaN where fewer than ``min_pairs`` frames (default half a window) are labelled by both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..labels import EXPRESSIONS, TASKS, VA_NAMES
from ..metrics import binarize, task_arrays
from ..tracks import Track

DISAGREEMENT_BELOW = 0.5  # default agreement under which a window counts as a disagreement
_EPS = 1e-9


@dataclass(frozen=True)
class Segment:
    """Frames [start, stop) and their score (agreement for worst segments, suggestion score for suggestions)."""

    start: int
    stop: int
    score: float

    def to_dict(self) -> dict[str, float | int]:
        return {"start": self.start, "stop": self.stop, "score": self.score}


@dataclass
class AgreementSeries:
    task: str
    window: int  # frames
    values: np.ndarray  # (n,) float32, NaN: too few frames labelled by both

    @property
    def n_frames(self) -> int:
        return len(self.values)


def _window_sums(a: np.ndarray, window: int) -> np.ndarray:
    """Sum of ``a`` (n, ...) over the window centred on each frame, cut at the ends."""
    n = len(a)
    dtype = np.int32 if a.dtype == bool else np.float64  # counts: exact and faster
    cs = np.concatenate([np.zeros((1,) + a.shape[1:], dtype), np.cumsum(a, axis=0, dtype=dtype)])
    idx = np.arange(n)
    lo = np.clip(idx - window // 2, 0, n)
    hi = np.clip(idx - window // 2 + window, 0, n)
    return cs[hi] - cs[lo]


def rolling_ccc(x: np.ndarray, y: np.ndarray, window: int, min_pairs: int | None = None) -> np.ndarray:
    """CCC of ``x`` against ``y`` (n,) over a centred window at every frame; NaN pairs are left out."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    # one shift for both (the mean difference must survive) keeps the cumulative sums well conditioned
    shift = (x[ok].mean() + y[ok].mean()) / 2.0 if ok.any() else 0.0
    xs = np.where(ok, x - shift, 0.0)
    ys = np.where(ok, y - shift, 0.0)
    s = _window_sums(np.stack([ok.astype(np.float64), xs, ys, xs * xs, ys * ys, xs * ys], axis=1), window)
    c = s[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = s[:, 1] / c, s[:, 2] / c
        vx = np.maximum(s[:, 3] / c - mx * mx, 0.0)
        vy = np.maximum(s[:, 4] / c - my * my, 0.0)
        cov = s[:, 5] / c - mx * my
        den = vx + vy + (mx - my) ** 2
        out = np.where(den > _EPS, 2.0 * cov / np.where(den > _EPS, den, 1.0), np.nan)
    out[c < max(2, min_pairs if min_pairs is not None else window // 2)] = np.nan
    return out.astype(np.float32)


def _f1_mean(tp: np.ndarray, n_pred: np.ndarray, n_ref: np.ndarray, absent_is: float) -> np.ndarray:
    """Mean F1 over the columns present (n_pred + n_ref > 0) per row; ``absent_is`` where none is."""
    den = n_pred + n_ref
    present = den > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(present, 2.0 * tp / np.where(present, den, 1.0), 0.0)
        count = present.sum(axis=1)
        return np.where(count > 0, f1.sum(axis=1) / np.maximum(count, 1), absent_is)


def rolling_expr_f1(pred: np.ndarray, ref: np.ndarray, window: int, min_pairs: int | None = None,
                    n_classes: int = len(EXPRESSIONS)) -> np.ndarray:
    """Macro F1 of expression labels (n,) (-1: unlabelled) over a centred window at every frame."""
    p = np.asarray(pred, np.int64)
    r = np.asarray(ref, np.int64)
    use = (p >= 0) & (r >= 0) & (r < n_classes)
    classes = np.arange(n_classes)
    hp = (p[:, None] == classes) & use[:, None]
    hr = (r[:, None] == classes) & use[:, None]
    s = _window_sums(np.concatenate([(hp & hr), hp, hr, use[:, None]], axis=1), window)
    k = n_classes
    out = _f1_mean(s[:, :k], s[:, k:2 * k], s[:, 2 * k:3 * k], np.nan)
    out[s[:, -1] < max(1, min_pairs if min_pairs is not None else window // 2)] = np.nan
    return out.astype(np.float32)


def rolling_au_f1(pred: np.ndarray, ref: np.ndarray, window: int, min_pairs: int | None = None) -> np.ndarray:
    """Mean per-AU F1 of (n, k) AU labels or probabilities (-1/NaN: unlabelled) over a centred window."""
    p = binarize(pred).astype(np.int64)
    r = np.asarray(ref, np.int64)
    use = (p >= 0) & (r >= 0)
    hp, hr = (p == 1) & use, (r == 1) & use
    k = r.shape[1]
    s = _window_sums(np.concatenate([hp & hr, hp, hr, use.any(axis=1, keepdims=True)], axis=1), window)
    out = _f1_mean(s[:, :k], s[:, k:2 * k], s[:, 2 * k:3 * k], 1.0)
    out[s[:, -1] < max(1, min_pairs if min_pairs is not None else window // 2)] = np.nan
    return out.astype(np.float32)


def agreement_series(track: Track, reference: Track, task: str, window: int,
                     column: str | None = None, min_pairs: int | None = None) -> AgreementSeries:
    """The agreement of ``track`` with ``reference`` per frame (see the module doc). ``column`` for VA:
    'valence', 'arousal' or None for their mean. Tracks are aligned as `affecttrace evaluate` aligns them
    (core.metrics.task_arrays: common length, AUs by name, a model's expression from its probabilities);
    the series has the reference's length."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    window = max(2, int(window))
    p, r, _info = task_arrays(track, reference, task)
    if task == "va":
        dims = [VA_NAMES.index(column)] if column else [0, 1]
        parts = [rolling_ccc(p[:, d], r[:, d], window, min_pairs) for d in dims]
        with np.errstate(invalid="ignore"):
            vals = parts[0] if len(parts) == 1 else (parts[0] + parts[1]) / 2.0
    elif task == "expr":
        vals = rolling_expr_f1(p, r, window, min_pairs)
    else:
        vals = rolling_au_f1(p, r, window, min_pairs)
    out = np.full(reference.n_frames, np.nan, np.float32)
    out[: len(vals)] = vals
    return AgreementSeries(task, window, out)


def worst_segments(series: AgreementSeries, count: int = 10) -> list[Segment]:
    """The ``count`` windows of lowest agreement, lowest first, no two overlapping: each is the window
    centred on a local minimum of the series."""
    from scipy.ndimage import minimum_filter1d

    v = np.where(np.isfinite(series.values), series.values, np.inf).astype(np.float64)
    w, n = series.window, len(v)
    if not n or not np.isfinite(v).any():
        return []
    local = np.flatnonzero((v == minimum_filter1d(v, size=w, mode="nearest")) & np.isfinite(v))
    local = local[np.concatenate([[True], np.diff(local) > 1])]  # one frame per flat minimum
    order = local[np.argsort(v[local], kind="stable")]
    taken: list[Segment] = []
    centres = np.empty(0, np.int64)
    for c in order:
        if len(taken) >= count:
            break
        if centres.size and (np.abs(centres - c) < w).any():
            continue
        start = max(0, int(c) - w // 2)
        taken.append(Segment(start, min(n, start + w), float(v[c])))
        centres = np.append(centres, c)
    return taken


def disagreement_mask(series: AgreementSeries, threshold: float = DISAGREEMENT_BELOW) -> np.ndarray:
    """(n,) True where the window's agreement is below ``threshold``."""
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(series.values, nan=np.inf) < threshold


def next_disagreement(series: AgreementSeries, frame: int, threshold: float = DISAGREEMENT_BELOW,
                      wrap: bool = False) -> int | None:
    """The first frame after ``frame`` that starts a run of disagreement (agreement < ``threshold``);
    from inside a run, the start of the next one. None when there is none (``wrap``: search from 0)."""
    bad = disagreement_mask(series, threshold)
    starts = np.flatnonzero(bad & ~np.concatenate([[False], bad[:-1]]))
    after = starts[starts > frame]
    if after.size:
        return int(after[0])
    if wrap and starts.size:
        return int(starts[0])
    return None
