"""Accepting a model's labels into an annotator's track: a frame range, or every frame (every AU cell)
the model is confident about. The result is a list of core.edits Edits, one per task, that the
caller pushes as ONE undo step (the app: Session.push; headless: Project.apply in order); the
annotator then corrects them like any other labels.

Each edit spans the first to the last accepted frame of its task and carries the target's current
values wherever a frame is not accepted, so undo restores the track exactly.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .edits import Edit
from .labels import AU_MISSING, EXPR_MISSING, TASKS
from .modeltracks import cell_confidence
from .tracks import Track

ACCEPT_KIND = "accept"


def _model_values(model: Track, target: Track, task: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(model values in the target's layout, has-a-prediction mask, confidence) of a task."""
    if task == "va":
        vals = model.va
        return vals, np.isfinite(vals).all(axis=1), cell_confidence(model, "va")
    if task == "expr":
        return model.expr, model.expr != EXPR_MISSING, cell_confidence(model, "expr")
    k = len(target.au_names)
    vals = np.full((model.n_frames, k), AU_MISSING, np.int8)
    conf = np.full((model.n_frames, k), np.nan, np.float32)
    mconf = cell_confidence(model, "au")
    for j, a in enumerate(target.au_names):
        if a in model.au_names:
            src = model.au_names.index(a)
            vals[:, j], conf[:, j] = model.au[:, src], mconf[:, src]
    return vals, vals != AU_MISSING, conf


def accept_edits(model: Track, target: Track, tasks: Sequence[str] = TASKS, start: int = 0,
                 stop: int | None = None, min_confidence: float | None = None, only_unlabelled: bool = False,
                 author: str = "") -> list[Edit]:
    """Edits writing ``model``'s labels into ``target`` over frames [start, stop).

    ``min_confidence``: only frames (AU: cells) whose confidence (core.modeltracks.cell_confidence) is at
    least this; frames without a confidence figure are then skipped. ``only_unlabelled``: keep the
    target's existing labels. Frames the model did not predict are never touched. Nothing to accept
    gives an empty list."""
    n = min(model.n_frames, target.n_frames)
    stop = n if stop is None else min(int(stop), n)
    start = max(0, int(start))
    edits: list[Edit] = []
    if stop <= start:
        return edits
    for task in tasks:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
        vals, has, conf = _model_values(model, target, task)
        cur = target.array(task)[:n]
        take = has[start:stop].copy()
        if min_confidence is not None:
            with np.errstate(invalid="ignore"):
                take &= np.nan_to_num(conf[start:stop], nan=-1.0) >= float(min_confidence)
        if only_unlabelled:
            block = cur[start:stop]
            missing = EXPR_MISSING if task == "expr" else AU_MISSING
            take &= np.isnan(block).any(axis=1) if task == "va" else block == missing
        if task == "va":
            take = np.repeat(take[:, None], 2, axis=1)
        rows = np.flatnonzero(take.any(axis=1) if take.ndim == 2 else take)
        if not len(rows):
            continue
        lo, hi = start + int(rows[0]), start + int(rows[-1]) + 1
        new = cur[lo:hi].copy()
        sel = take[rows[0]:rows[-1] + 1]
        new[sel] = vals[lo:hi][sel]
        edits.append(Edit(target.video, target.name, task, lo, new, author=author, kind=ACCEPT_KIND))
    return edits

