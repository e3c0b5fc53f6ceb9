"""Fusing several annotators' traces into one gold-standard trace: mean, EWE, majority vote."""
from __future__ import annotations

import warnings

import numpy as np

from ..metrics.continuous import pearson
from .stats import MISSING_LABEL


def mean_fusion(traces: np.ndarray) -> np.ndarray:
    """Per-frame mean of the raters who rated it; (raters, n[, d]) -> (n[, d]), NaN where none did."""
    a = np.asarray(traces, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames stay NaN
        return np.nanmean(a, axis=0)


def ewe_weights(traces: np.ndarray) -> np.ndarray:
    """Evaluator weights of EWE: Pearson r of each rater with the mean of the others, negatives -> 0.

    ``traces`` is (raters, n) for one dimension. If no rater correlates positively, all weigh 1.
    """
    a = np.asarray(traces, dtype=np.float64)
    r = len(a)
    w = np.zeros(r)
    for i in range(r):
        others = mean_fusion(np.delete(a, i, axis=0)) if r > 1 else a[i]
        w[i] = pearson(a[i], others)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    return w if w.sum() > 0 else np.ones(r)


def ewe_fusion(traces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evaluator weighted estimator (Grimm & Kroschel): per dimension, sum r_k x_k / sum r_k over the
    raters who rated each frame. (raters, n) or (raters, n, d) -> (fused, weights (raters[, d]))."""
    a = np.asarray(traces, dtype=np.float64)
    squeeze = a.ndim == 2
    if squeeze:
        a = a[:, :, None]
    fused = np.full(a.shape[1:], np.nan)
    weights = np.zeros((a.shape[0], a.shape[2]))
    for d in range(a.shape[2]):
        w = ewe_weights(a[:, :, d])
        ok = np.isfinite(a[:, :, d])
        wsum = (w[:, None] * ok).sum(axis=0)
        num = (w[:, None] * np.where(ok, a[:, :, d], 0.0)).sum(axis=0)
        fused[:, d] = np.where(wsum > 0, num / np.where(wsum > 0, wsum, 1), np.nan)
        weights[:, d] = w
    return (fused[:, 0], weights[:, 0]) if squeeze else (fused, weights)


def majority_vote(labels: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Per-frame most frequent label among the raters who labelled it; -1 where none did.

    (raters, n) or (raters, n, k) (each AU voted separately). Ties go to the label whose voters have
    the larger summed ``weights`` (default: equal), then to the smaller label.
    """
    a = np.asarray(labels).astype(np.int64)
    r = a.shape[0]
    w = np.ones(r) if weights is None else np.asarray(weights, dtype=np.float64).reshape(r)
    w = w / (w.sum() * 10.0 + 1e-12)  # < 0.1 in total: only ever breaks ties between equal counts
    cats = np.unique(a[a != MISSING_LABEL])
    out = np.full(a.shape[1:], MISSING_LABEL, dtype=np.int64)
    if cats.size == 0:
        return out
    shape = (r,) + (1,) * (a.ndim - 1)
    score = np.stack([((a == c) * (1.0 + w.reshape(shape))).sum(axis=0) for c in cats])
    best = score.argmax(axis=0)
    voted = (a != MISSING_LABEL).any(axis=0)
    out[voted] = cats[best[voted]]
    return out
