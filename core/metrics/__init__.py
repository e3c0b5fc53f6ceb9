"""ABAW metrics for valence-arousal, expressions and action units (numpy only, no torch).

Simple functions on arrays for the trainer, plus track-level scoring for ``affecttrace evaluate``::

    va_scores(pred (n,2), ref (n,2)) -> dict
    expr_scores(pred (n,), ref (n,), abaw=2022) -> dict
    au_scores(pred (n,k) 0/1 or probabilities, ref (n,k), abaw=2022) -> dict
    multitask_score(va, expr, au) -> float
    evaluate_tracks(pred: Track, ref: Track, task, abaw) -> dict
"""
from .categorical import (
                          ABAW_YEARS,
                          au_scores,
                          binarize,
                          binary_f1,
                          class_accuracies,
                          confusion_matrix,
                          expr_scores,
                          f1_from_confusion,
                          multitask_score,
)
from .continuous import ccc, pearson, rmse, sagr, va_mask, va_scores
from .tracks import evaluate_pairs, evaluate_tracks, score_arrays, task_arrays

__all__ = [
    "ABAW_YEARS", "au_scores", "binarize", "binary_f1", "ccc", "class_accuracies", "confusion_matrix",
    "evaluate_pairs", "evaluate_tracks", "expr_scores", "f1_from_confusion", "multitask_score", "pearson", "rmse",
    "sagr", "score_arrays", "task_arrays", "va_mask", "va_scores",
]
