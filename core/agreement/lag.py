"""Annotator reaction lag: the shift of a live-traced VA trace that best matches the others.

A rater who reacts ``L`` seconds late writes at time t + L what the video showed at t, so the
compensated trace is ``x[t + L]``. Differences between raters are estimated pairwise (the shift
that maximises Pearson r of two traces) and combined by least squares. Their common offset cannot
be seen from the traces alone; it comes from a frame-synchronous anchor:
- a reference trace (a model track, known ground truth): each rater's lag maximises r with it;
- features labelled frame by frame without lag (expressions and AUs are labelled offline): each
  rater's lag maximises the R^2 of a linear fit of the shifted trace on the features; the offset is
  the median of (that lag - the pairwise lag), so the precise pairwise differences are kept.
Without an anchor the earliest rater gets ``min_lag_s`` and ``basis`` is 'relative'.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .defaults import DEFAULT_MAX_LAG_S
from .fusion import mean_fusion


def shift(x: np.ndarray, lag: int, fill: float | int = np.nan) -> np.ndarray:
    """``y[t] = x[t + lag]`` with ``fill`` where that lies outside the trace (lag may be negative)."""
    a = np.asarray(x)
    out = np.full_like(a, fill)
    n = len(a)
    if abs(lag) >= n:
        return out
    if lag >= 0:
        out[: n - lag] = a[lag:]
    else:
        out[-lag:] = a[: n + lag]
    return out


def _corr_at(x: np.ndarray, y: np.ndarray, lags: np.ndarray, min_pairs: int) -> np.ndarray:
    """Mean over dimensions of Pearson r between x[t + lag] and y[t], for each lag."""
    out = np.full(len(lags), np.nan)
    n = len(x)
    for i, lag in enumerate(lags):
        if abs(lag) >= n:
            continue
        if lag >= 0:
            a, b = x[lag:], y[: n - lag]
        else:
            a, b = x[: n + lag], y[-lag:]
        ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
        if ok.sum() < min_pairs:
            continue
        a, b = a[ok], b[ok]
        a = a - a.mean(axis=0)
        b = b - b.mean(axis=0)
        den = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(den > 0, (a * b).sum(axis=0) / np.where(den > 0, den, 1), np.nan)
        if np.isfinite(r).any():
            out[i] = np.nanmean(r)
    return out


def fit_r2_at(x: np.ndarray, features: np.ndarray, lags: np.ndarray, min_pairs: int = 50) -> np.ndarray:
    """Mean over dimensions of the R^2 of a least-squares fit of x[t + lag] on features[t] (+ intercept)."""
    f = np.column_stack([features, np.ones(len(features))])
    okf = np.isfinite(f).all(axis=1)
    out = np.full(len(lags), np.nan)
    with _one_blas_thread():  # tiny solves: threads only contend
        for i, lag in enumerate(lags):
            y = shift(x, int(lag))
            ok = okf & np.isfinite(y).all(axis=1)
            if ok.sum() < max(min_pairs, f.shape[1] + 2):
                continue
            a, b = f[ok], y[ok]
            coef = np.linalg.lstsq(a, b, rcond=None)[0]
            tot = ((b - b.mean(axis=0)) ** 2).sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                r2 = 1 - ((b - a @ coef) ** 2).sum(axis=0) / tot
            out[i] = np.nanmean(np.where(tot > 0, r2, np.nan)) if (tot > 0).any() else np.nan
    return out


def best_fit_lag(x: np.ndarray, features: np.ndarray, lo: int, hi: int, step: int) -> tuple[int, float]:
    """Lag in [lo, hi] maximising fit_r2_at, searched every ``step`` frames then refined; (lag, R^2)."""
    coarse = np.arange(lo, hi + 1, max(1, step))
    r = fit_r2_at(x, features, coarse)
    if not np.isfinite(r).any():
        return lo, float("nan")
    c = int(coarse[int(np.nanargmax(r))])
    fine = np.arange(max(lo, c - step), min(hi, c + step) + 1)
    r = fit_r2_at(x, features, fine)
    i = int(np.nanargmax(r))
    return int(fine[i]), float(r[i])


class _one_blas_thread:
    def __enter__(self):
        try:
            from threadpoolctl import threadpool_limits

            self._limit = threadpool_limits(1)
        except ImportError:
            self._limit = None

    def __exit__(self, *exc):
        if self._limit is not None:
            self._limit.restore_original_limits()


def best_lag(x: np.ndarray, ref: np.ndarray, lo: int, hi: int, min_pairs: int = 50) -> tuple[int, float]:
    """Integer lag in [lo, hi] maximising the correlation of x[t + lag] with ref[t]; (lag, r)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    ref = np.asarray(ref, dtype=np.float64).reshape(len(ref), -1)
    lags = np.arange(lo, hi + 1)
    r = _corr_at(x, ref, lags, min_pairs)
    if not np.isfinite(r).any():
        return 0, float("nan")
    i = int(np.nanargmax(r))
    return int(lags[i]), float(r[i])


@dataclass
class LagEstimate:
    """Lags per rater in seconds and frames, the correlation reached, and whether they are relative."""

    lags_s: dict[str, float]
    lags_frames: dict[str, int]
    agreement: dict[str, float]
    relative: bool
    fps: float
    max_lag_s: float
    reference: str | None = None
    pairwise_s: dict[str, float] = field(default_factory=dict)
    basis: str = "relative"  # 'reference', 'labels' or 'relative'

    def to_dict(self) -> dict:
        return {"lags_s": self.lags_s, "lags_frames": self.lags_frames, "agreement": self.agreement,
                "relative": self.relative, "basis": self.basis, "fps": self.fps, "max_lag_s": self.max_lag_s,
                "reference": self.reference, "pairwise_s": self.pairwise_s}


def _relative_lags(names: list[str], arrs: dict[str, np.ndarray], span: int,
                   fps: float) -> tuple[np.ndarray, dict[str, float]]:
    """Lags relative to the earliest rater (frames, >= 0) from every pair's best lag, by weighted least
    squares; and each pair's lag in seconds."""
    rows, rhs, wts = [], [], []
    pair_s: dict[str, float] = {}
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            d, r = best_lag(arrs[a], arrs[names[j]], -span, span)  # d ~ lag_a - lag_b
            pair_s[f"{a}-{names[j]}"] = d / fps
            if np.isfinite(r) and r > 0:
                row = np.zeros(len(names))
                row[i], row[j] = 1.0, -1.0
                rows.append(row)
                rhs.append(d)
                wts.append(r)
    est = np.zeros(len(names))
    if rows:
        sw = np.sqrt(np.array(wts))[:, None]
        # the sum-zero row pins the free offset; the caller anchors it
        A = np.vstack([np.array(rows) * sw, np.ones((1, len(names)))])
        b = np.concatenate([np.array(rhs) * sw[:, 0], [0.0]])
        est = np.linalg.lstsq(A, b, rcond=None)[0]
    return np.round(est - est.min()).astype(int), pair_s


def estimate_lags(traces: dict[str, np.ndarray], fps: float, max_lag_s: float = DEFAULT_MAX_LAG_S,
                  min_lag_s: float = 0.0,
                  reference: np.ndarray | None = None, reference_name: str | None = None,
                  features: np.ndarray | None = None, min_r2: float = 0.1) -> LagEstimate:
    """Estimate each rater's reaction lag within [min_lag_s, max_lag_s] (see the module doc).

    ``traces``: rater -> (n,) or (n, d) float array with NaN for unlabelled frames (VA: both dims share
    one lag). ``reference``: an optional frame-synchronous (n,) or (n, d) trace. ``features``: optional
    (n, p) frame-synchronous features (NaN rows unlabelled), used when their best fit reaches ``min_r2``.
    """
    names = list(traces)
    lo, hi = int(round(min_lag_s * fps)), int(round(max_lag_s * fps))
    if hi < lo:
        raise ValueError(f"max lag {max_lag_s} s is below min lag {min_lag_s} s")
    arrs = {k: np.asarray(v, dtype=np.float64).reshape(len(v), -1) for k, v in traces.items()}
    step = max(1, int(round(0.2 * fps)))  # coarse grid of the R^2 search, refined around its peak
    lags: dict[str, int] = {}
    agree: dict[str, float] = {}
    pair_s: dict[str, float] = {}
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
        for k in names:
            lags[k], agree[k] = best_lag(arrs[k], ref, lo, hi)
    elif len(names) >= 2:
        rel, pair_s = _relative_lags(names, arrs, hi - lo, fps)
        basis = "relative"
        est = rel + lo
        if features is not None:
            feats = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
            offsets = []
            for i, k in enumerate(names):
                lag, r2 = best_fit_lag(arrs[k], feats, lo, hi, step)
                if np.isfinite(r2) and r2 >= min_r2:
                    offsets.append(lag - rel[i])
            if offsets:
                est = rel + int(round(float(np.median(offsets))))
                basis = "labels"
        est = np.clip(est, lo, hi).astype(int)
        lags = {k: int(est[i]) for i, k in enumerate(names)}
        for k in names:
            mean_others = mean_fusion(np.stack([shift(arrs[o], lags[o]) for o in names if o != k]))
            agree[k] = best_lag(shift(arrs[k], lags[k]), mean_others, 0, 0)[1]
    else:
        basis = "relative"
        for k in names:
            lags[k], agree[k] = lo, float("nan")
            if features is not None:
                feats = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
                lag, r2 = best_fit_lag(arrs[k], feats, lo, hi, step)
                if np.isfinite(r2) and r2 >= min_r2:
                    lags[k], basis = lag, "labels"
    if reference is not None:
        basis = "reference"
    return LagEstimate({k: lags[k] / fps for k in names}, lags, agree, basis == "relative", float(fps),
                       float(max_lag_s), reference_name, pair_s, basis)
