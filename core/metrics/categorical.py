"""Expression and action-unit metrics (ABAW 2020 and 2022 on). Numpy only.

F1 of a class is 2·TP / (2·TP + FP + FN). Macro F1 averages the classes that occur in the
reference or the prediction, which is what scikit-learn's ``f1_score(average='macro')`` (the
ABAW evaluation scripts) does; per-AU binary F1 is 0 when an AU is never positive in either,
again as scikit-learn returns it.
"""
from __future__ import annotations

import numpy as np

from ..labels import AU_MISSING, EXPR_MISSING, EXPRESSIONS

ABAW_YEARS = (2020, 2022)


def _check_abaw(abaw: int) -> int:
    abaw = int(abaw)
    if abaw not in ABAW_YEARS:
        raise ValueError(f"unknown ABAW protocol {abaw}; expected 2020 or 2022 (2022 covers later years)")
    return abaw


def confusion_matrix(pred: np.ndarray, ref: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) int64 counts, rows = reference, columns = prediction.

    Pairs with a label outside 0..n_classes-1 on either side are not counted.
    """
    p = np.asarray(pred, dtype=np.int64).ravel()
    r = np.asarray(ref, dtype=np.int64).ravel()
    keep = (p >= 0) & (p < n_classes) & (r >= 0) & (r < n_classes)
    idx = r[keep] * n_classes + p[keep]
    return np.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def f1_from_confusion(cm: np.ndarray) -> np.ndarray:
    """Per-class F1 from a confusion matrix; NaN for a class absent from reference and prediction."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    den = cm.sum(axis=0) + cm.sum(axis=1)  # 2TP + FP + FN
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), np.nan)


def binary_f1(pred: np.ndarray, ref: np.ndarray) -> float:
    """F1 of the positive class on 0/1 arrays; 0 when neither has a positive (scikit-learn's value)."""
    p = np.asarray(pred).astype(bool).ravel()
    r = np.asarray(ref).astype(bool).ravel()
    tp = float((p & r).sum())
    den = float(p.sum() + r.sum())
    return 2 * tp / den if den > 0 else 0.0


def expr_scores(pred_labels: np.ndarray, ref: np.ndarray, abaw: int = 2022,
                class_names: tuple[str, ...] | None = None) -> dict:
    """ABAW expression score and its parts.

    ABAW 2020: 7 classes (no Other), score = 0.67·macro F1 + 0.33·accuracy. 2022 on: 8 classes,
    score = macro F1. Reference frames that are -1 (or, for 2020, Other) are left out; predictions
    of -1 are left out and counted in ``frames_missing_pred``; a predicted class outside the protocol's
    classes counts as wrong. Keys: score, f1, accuracy, per_class_f1 {name: f1|nan}, confusion (rows =
    reference), classes, frames, frames_missing_pred.
    """
    abaw = _check_abaw(abaw)
    names = class_names or (EXPRESSIONS[:7] if abaw == 2020 else EXPRESSIONS)
    k = len(names)
    p = np.asarray(pred_labels, dtype=np.int64).ravel()
    r = np.asarray(ref, dtype=np.int64).ravel()
    if p.shape != r.shape:
        raise ValueError(f"prediction and reference differ in length: {p.size} vs {r.size}")
    labelled = (r >= 0) & (r < k)
    have = p != EXPR_MISSING
    use = labelled & have
    p, r = p[use], r[use]
    # a prediction outside the classes becomes its own column so it counts as FP nowhere but FN for r
    cm_full = confusion_matrix(np.where((p >= 0) & (p < k), p, k), r, k + 1)
    cm = cm_full[:k, :k]
    tp = np.diag(cm).astype(np.float64)
    den = cm.sum(axis=0) + cm_full[:k, :].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), np.nan)
    f1 = float(np.nanmean(per_class)) if np.isfinite(per_class).any() else float("nan")
    acc = float((p == r).mean()) if r.size else float("nan")
    score = 0.67 * f1 + 0.33 * acc if abaw == 2020 else f1
    return {
        "score": score, "f1": f1, "accuracy": acc,
        "per_class_f1": {n: float(v) for n, v in zip(names, per_class)},
        "confusion": cm.tolist(), "classes": list(names),
        "frames": int(use.sum()), "frames_missing_pred": int((labelled & ~have).sum()),
    }


def class_accuracies(confusion: np.ndarray) -> tuple[float, np.ndarray]:
    """(mean class accuracy, per-class accuracy) from a confusion matrix (rows = reference): each class's
    recall, averaged over the classes the reference holds (RAF-DB's "average accuracy"); NaN for a class
    absent from the reference."""
    cm = np.asarray(confusion, dtype=np.float64)
    total = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(total > 0, np.diag(cm) / np.where(total > 0, total, 1), np.nan)
    return (float(np.nanmean(per)) if np.isfinite(per).any() else float("nan")), per


def binarize(pred: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """0/1 int8 from probabilities or 0/1 labels; -1 (and NaN) stay -1 (not predicted)."""
    a = np.asarray(pred)
    if a.dtype.kind == "f":
        out = np.where(a >= threshold, 1, 0).astype(np.int8)
        out[np.isnan(a) | (a == AU_MISSING)] = AU_MISSING
        return out
    return np.where(a == AU_MISSING, AU_MISSING, (a > 0).astype(np.int8)).astype(np.int8)


def au_scores(pred: np.ndarray, ref: np.ndarray, abaw: int = 2022, au_names: tuple[str, ...] | None = None,
              threshold: float = 0.5) -> dict:
    """ABAW action-unit score and its parts on (n, k) arrays (pred: 0/1 or probabilities).

    Each AU uses the frames labelled for it in ``ref`` (not -1) and predicted. ABAW 2022 on: score =
    mean per-AU F1; ABAW 2020: 0.5·mean F1 + 0.5·accuracy over all AU labels flattened. Keys: score,
    f1, accuracy, per_au_f1 {name: f1}, frames (rows with any AU used), frames_missing_pred.
    """
    abaw = _check_abaw(abaw)
    r = np.asarray(ref).astype(np.int64)
    p = binarize(pred, threshold).astype(np.int64)
    if r.ndim == 1:
        r, p = r[:, None], p.reshape(-1, 1)
    if p.shape != r.shape:
        raise ValueError(f"prediction and reference differ in shape: {p.shape} vs {r.shape}")
    names = tuple(au_names) if au_names is not None else tuple(f"AU{j}" for j in range(r.shape[1]))
    if len(names) != r.shape[1]:
        raise ValueError(f"{len(names)} AU names for {r.shape[1]} columns")
    labelled = r != AU_MISSING
    use = labelled & (p != AU_MISSING)
    # binary_f1 of every AU at once (the frames each AU uses differ): 2 TP / (predicted + true positives)
    hit_p, hit_r = (p == 1) & use, (r == 1) & use
    tp = (hit_p & hit_r).sum(axis=0)
    den = hit_p.sum(axis=0) + hit_r.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        vals = np.where(use.any(axis=0), np.where(den > 0, 2.0 * tp / np.maximum(den, 1), 0.0), np.nan)
    per_au = {n: float(v) for n, v in zip(names, vals)}
    f1 = float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")
    acc = float((p[use] == r[use]).mean()) if use.any() else float("nan")
    score = 0.5 * f1 + 0.5 * acc if abaw == 2020 else f1
    missing_rows = labelled.any(axis=1) & ~use.any(axis=1)
    return {"score": score, "f1": f1, "accuracy": acc, "per_au_f1": per_au,
            "frames": int(use.any(axis=1).sum()), "frames_missing_pred": int(missing_rows.sum())}


def multitask_score(va: dict | float | None, expr: dict | float | None, au: dict | float | None) -> float:
    """ABAW multi-task score: VA + EXPR + AU task scores (dicts from the *_scores functions or floats)."""
    total = 0.0
    for part in (va, expr, au):
        if part is None:
            return float("nan")
        total += float(part["score"] if isinstance(part, dict) else part)
    return total
