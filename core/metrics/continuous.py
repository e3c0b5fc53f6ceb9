"""Valence-arousal metrics: CCC (ABAW), Pearson r, RMSE, SAGR. Numpy only; NaN marks unlabelled."""
from __future__ import annotations

import numpy as np

from ..labels import VA_FILE_MISSING, VA_NAMES, VA_RANGE


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"prediction and reference differ in length: {x.size} vs {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def ccc(x: np.ndarray, y: np.ndarray) -> float:
    """Concordance correlation coefficient with population statistics (ddof=0).

    NaN when fewer than 2 paired samples or when the denominator is zero. Non-finite pairs are skipped.
    """
    x, y = _pair(x, y)
    if x.size < 2:
        return float("nan")
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(), y.var()
    cov = ((x - mx) * (y - my)).mean()
    den = vx + vy + (mx - my) ** 2
    return float(2.0 * cov / den) if den > 0 else float("nan")


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r; NaN for fewer than 2 pairs or a constant input."""
    x, y = _pair(x, y)
    if x.size < 2:
        return float("nan")
    dx, dy = x - x.mean(), y - y.mean()
    den = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    return float((dx * dy).sum() / den) if den > 0 else float("nan")


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    x, y = _pair(x, y)
    return float(np.sqrt(((x - y) ** 2).mean())) if x.size else float("nan")


def sagr(x: np.ndarray, y: np.ndarray) -> float:
    """Sign agreement: share of pairs whose signs agree (zero counts as positive, as in AffectNet work)."""
    x, y = _pair(x, y)
    return float(((x >= 0) == (y >= 0)).mean()) if x.size else float("nan")


def va_mask(va: np.ndarray) -> np.ndarray:
    """Rows labelled for VA: both values finite and neither the Aff-Wild2 sentinel -5."""
    va = np.asarray(va, dtype=np.float64)
    return np.isfinite(va).all(axis=1) & ~(va == VA_FILE_MISSING).any(axis=1)


def va_scores(pred: np.ndarray, ref: np.ndarray) -> dict[str, float | int]:
    """ABAW VA score and its parts on (n, 2) arrays [valence, arousal].

    Frames unlabelled in ``ref`` (NaN or -5 in either column) are left out; frames the prediction
    lacks are left out too and counted in ``frames_missing_pred``. Predictions are clipped to [-1, 1].
    Keys: score, ccc_valence, ccc_arousal, pearson_*, rmse_*, sagr_*, frames, frames_missing_pred.
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
    ref = np.asarray(ref, dtype=np.float64).reshape(-1, 2)
    if len(pred) != len(ref):
        raise ValueError(f"prediction and reference differ in length: {len(pred)} vs {len(ref)}")
    labelled = va_mask(ref)
    have = va_mask(pred)
    use = labelled & have
    p = np.clip(pred[use], *VA_RANGE)
    r = ref[use]
    out: dict[str, float | int] = {}
    for d, name in enumerate(VA_NAMES):
        out[f"ccc_{name}"] = ccc(p[:, d], r[:, d])
        out[f"pearson_{name}"] = pearson(p[:, d], r[:, d])
        out[f"rmse_{name}"] = rmse(p[:, d], r[:, d])
        out[f"sagr_{name}"] = sagr(p[:, d], r[:, d])
    out["score"] = (out["ccc_valence"] + out["ccc_arousal"]) / 2.0
    out["frames"] = int(use.sum())
    out["frames_missing_pred"] = int((labelled & ~have).sum())
    return {"score": out.pop("score"), **out}
