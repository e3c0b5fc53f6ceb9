"""Scoring whole tracks: one video (``evaluate_tracks``) or many pooled (``evaluate_pairs``)."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..labels import EXPR_MISSING, TASKS
from ..tracks import Track
from .categorical import _check_abaw, au_scores, expr_scores
from .continuous import va_scores


def _au_columns(pred: Track, ref: Track) -> tuple[list[int], list[int], tuple[str, ...]]:
    common = [a for a in ref.au_names if a in pred.au_names]
    if not common:
        raise ValueError(f"no action unit in common: prediction has {', '.join(pred.au_names) or 'none'}, "
                         f"reference has {', '.join(ref.au_names) or 'none'}")
    return [pred.au_names.index(a) for a in common], [ref.au_names.index(a) for a in common], tuple(common)


def task_arrays(pred: Track, ref: Track, task: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """The prediction and reference arrays of a task, cut to the common length and AU columns."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    n = min(pred.n_frames, ref.n_frames)
    info: dict[str, object] = {"frames_pred": pred.n_frames, "frames_ref": ref.n_frames}
    if task == "va":
        return pred.va[:n], ref.va[:n], info
    if task == "expr":
        return predicted_expr(pred)[:n], ref.expr[:n], info
    pc, rc, names = _au_columns(pred, ref)
    p = pred.au_prob[:n, pc] if pred.au_prob is not None else pred.au[:n, pc]
    if pred.au_prob is not None:  # a model track: keep its hard labels where it gave no probability
        p = np.where(np.isnan(p), np.where(pred.au[:n, pc] < 0, np.nan, pred.au[:n, pc]), p)
    info["au_names"] = names
    return p, ref.au[:n, rc], info


def score_arrays(pred: np.ndarray, ref: np.ndarray, task: str, abaw: int = 2022,
                 au_names: tuple[str, ...] | None = None) -> dict:
    """Dispatch to va_scores / expr_scores / au_scores."""
    if task == "va":
        return va_scores(pred, ref)
    if task == "expr":
        return expr_scores(pred, ref, abaw)
    return au_scores(pred, ref, abaw, au_names)


def evaluate_tracks(pred: Track, ref: Track, task: str, abaw: int = 2022) -> dict:
    """Score a prediction track against a reference track on one video for one task.

    The tracks are compared over their common length (``frames_pred``/``frames_ref`` report both);
    AU columns are matched by name. Returns the dict of the task's *_scores function.
    """
    abaw = _check_abaw(abaw)
    p, r, info = task_arrays(pred, ref, task)
    out = score_arrays(p, r, task, abaw, info.get("au_names"))
    out.update({k: v for k, v in info.items() if k != "au_names"})
    return out


def evaluate_pairs(pairs: Iterable[tuple[Track, Track]], task: str, abaw: int = 2022) -> dict:
    """Score many (pred, ref) video pairs: ``overall`` pools every frame (as ABAW does), ``videos``
    holds the per-video scores keyed by the reference track's video name."""
    abaw = _check_abaw(abaw)
    preds, refs, per_video = [], [], {}
    names: tuple[str, ...] | None = None
    for pred, ref in pairs:
        p, r, info = task_arrays(pred, ref, task)
        if task == "au":
            if names is not None and info["au_names"] != names:
                raise ValueError(f"{ref.video}: action units {', '.join(info['au_names'])} differ from "
                                 f"the other videos' {', '.join(names)}")
            names = info["au_names"]
        res = score_arrays(p, r, task, abaw, names)
        res.update({k: v for k, v in info.items() if k != "au_names"})
        per_video[ref.video] = res
        preds.append(p)
        refs.append(r)
    if not preds:
        raise ValueError("no video to evaluate")
    overall = score_arrays(np.concatenate(preds), np.concatenate(refs), task, abaw, names)
    overall["videos"] = len(per_video)
    return {"task": task, "abaw": abaw, "overall": overall, "videos": per_video}


def predicted_expr(track: Track) -> np.ndarray:
    """Expression labels of a track, from probabilities where a model track has only those."""
    if track.expr_prob is None:
        return track.expr
    arg = np.nanargmax(np.nan_to_num(track.expr_prob, nan=-np.inf), axis=1).astype(np.int8)
    has = np.isfinite(track.expr_prob).any(axis=1)
    return np.where(track.expr != EXPR_MISSING, track.expr, np.where(has, arg, EXPR_MISSING)).astype(np.int8)
