"""Inter-rater agreement statistics on (raters, items) arrays. Numpy only.

Continuous ratings use NaN for "not rated", discrete ratings use -1 (the label sentinels of
core.labels). ICC, Cronbach's alpha and Fleiss' kappa need every rater on an item, so they use the
items all raters rated (listwise, as pingouin does); Krippendorff's alpha uses every item rated by
at least two raters; pairwise statistics use the items both raters rated.
"""
from __future__ import annotations

import numpy as np

MISSING_LABEL = -1
ICC_FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")


def _cont(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"expected (raters, items) ratings, got shape {a.shape}")
    return a


def _disc(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 2:
        raise ValueError(f"expected (raters, items) ratings, got shape {a.shape}")
    if a.dtype.kind == "f":
        a = np.where(np.isnan(a), MISSING_LABEL, a)
    return a.astype(np.int64)


def complete_items(x: np.ndarray) -> np.ndarray:
    """The (raters, items) ratings restricted to items every rater rated."""
    a = np.asarray(x)
    keep = np.isfinite(a).all(axis=0) if a.dtype.kind == "f" else (a != MISSING_LABEL).all(axis=0)
    return a[:, keep]


def icc(ratings: np.ndarray) -> dict[str, float]:
    """Shrout & Fleiss intraclass correlations from the two-way ANOVA of the complete items.

    Keys (Shrout & Fleiss names; McGraw & Wong / pingouin >= 0.7 names in brackets): ICC(1,1) one-way
    random, single rater; ICC(2,1) [ICC(A,1)] two-way random, absolute agreement, single rater;
    ICC(3,1) [ICC(C,1)] two-way mixed, consistency, single rater; ICC(1,k), ICC(2,k) [ICC(A,k)],
    ICC(3,k) [ICC(C,k)] the same for the mean of the k raters (the reliability of a fused trace).
    """
    a = complete_items(_cont(ratings)).T  # items x raters
    n, k = a.shape
    nan = float("nan")
    if n < 2 or k < 2:
        return {key: nan for key in ICC_FORMS}
    gm = a.mean()
    ss_r = k * ((a.mean(axis=1) - gm) ** 2).sum()
    ss_c = n * ((a.mean(axis=0) - gm) ** 2).sum()
    ss_e = ((a - gm) ** 2).sum() - ss_r - ss_c
    msr, msc = ss_r / (n - 1), ss_c / (k - 1)
    mse = ss_e / ((n - 1) * (k - 1))
    msw = (ss_c + ss_e) / (n * (k - 1))

    def div(num: float, den: float) -> float:
        return float(num / den) if den != 0 else nan

    return {
        "ICC(1,1)": div(msr - msw, msr + (k - 1) * msw),
        "ICC(2,1)": div(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n),
        "ICC(3,1)": div(msr - mse, msr + (k - 1) * mse),
        "ICC(1,k)": div(msr - msw, msr),
        "ICC(2,k)": div(msr - mse, msr + (msc - mse) / n),
        "ICC(3,k)": div(msr - mse, msr),
    }


def cronbach_alpha(ratings: np.ndarray) -> float:
    """Cronbach's alpha with raters as items, over the items all raters rated."""
    a = complete_items(_cont(ratings))
    k, n = a.shape
    if k < 2 or n < 2:
        return float("nan")
    total = a.sum(axis=0).var(ddof=1)
    return float(k / (k - 1) * (1 - a.var(axis=1, ddof=1).sum() / total)) if total > 0 else float("nan")


def krippendorff_alpha(ratings: np.ndarray, level: str = "interval") -> float:
    """Krippendorff's alpha for 'interval' (NaN missing) or 'nominal' (-1 missing) data.

    Computed from sums of pairwise differences, which equals the coincidence-matrix definition.
    """
    if level == "interval":
        a = _cont(ratings)
        ok = np.isfinite(a)
        m = ok.sum(axis=0)
        use = m >= 2
        v = np.where(ok, a, 0.0)[:, use]
        m = m[use].astype(np.float64)
        n = m.sum()
        if n < 2:
            return float("nan")
        s1, s2 = v.sum(axis=0), (v * v).sum(axis=0)
        d_o = ((2 * m * s2 - 2 * s1 * s1) / (m - 1)).sum() / n
        d_e = (2 * n * s2.sum() - 2 * s1.sum() ** 2) / (n * (n - 1))
    elif level == "nominal":
        a = _disc(ratings)
        ok = a != MISSING_LABEL
        m = ok.sum(axis=0)
        use = m >= 2
        a, ok, m = a[:, use], ok[:, use], m[use].astype(np.float64)
        n = m.sum()
        if n < 2:
            return float("nan")
        cats = np.unique(a[ok])
        counts = np.stack([((a == c) & ok).sum(axis=0) for c in cats]).astype(np.float64)  # (c, items)
        d_o = ((m * m - (counts ** 2).sum(axis=0)) / (m - 1)).sum() / n
        d_e = (n * n - (counts.sum(axis=1) ** 2).sum()) / (n * (n - 1))
    else:
        raise ValueError(f"unknown level {level!r}; expected 'interval' or 'nominal'")
    return float(1 - d_o / d_e) if d_e > 0 else float("nan")


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two raters over the items both rated (-1 = not rated)."""
    x, y = np.asarray(a).astype(np.int64).ravel(), np.asarray(b).astype(np.int64).ravel()
    keep = (x != MISSING_LABEL) & (y != MISSING_LABEL)
    x, y = x[keep], y[keep]
    if x.size == 0:
        return float("nan")
    cats, inv = np.unique(np.concatenate([x, y]), return_inverse=True)
    xi, yi = inv[: x.size], inv[x.size:]
    k = len(cats)
    cm = np.bincount(xi * k + yi, minlength=k * k).reshape(k, k) / x.size
    po = np.trace(cm)
    pe = float(cm.sum(axis=1) @ cm.sum(axis=0))
    return float((po - pe) / (1 - pe)) if pe < 1 else float("nan")


def fleiss_kappa(ratings: np.ndarray) -> float:
    """Fleiss' kappa over the items all raters rated (-1 = not rated)."""
    a = complete_items(_disc(ratings))
    k, n = a.shape
    if k < 2 or n == 0:
        return float("nan")
    cats = np.unique(a)
    counts = np.stack([(a == c).sum(axis=0) for c in cats], axis=1).astype(np.float64)  # items x cats
    p_i = ((counts ** 2).sum(axis=1) - k) / (k * (k - 1))
    p_c = counts.sum(axis=0) / (n * k)
    pe = float((p_c ** 2).sum())
    return float((p_i.mean() - pe) / (1 - pe)) if pe < 1 else float("nan")


def pairwise(ratings: np.ndarray, fn) -> np.ndarray:
    """(raters, raters) matrix of fn(rater i, rater j); the diagonal is NaN."""
    r = len(ratings)
    out = np.full((r, r), np.nan)
    for i in range(r):
        for j in range(i + 1, r):
            out[i, j] = out[j, i] = fn(ratings[i], ratings[j])
    return out
