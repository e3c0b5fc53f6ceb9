"""Accepting a model's labels into an annotator's track: a frame range, or every frame (every AU cell)
the model is confident about. The result is a list of core.edits Edits, one per task, that the
caller pushes as ONE undo step (the app: Session.push; headless: Project.apply in order); the
annotator then corrects them like any other labels.

Each edit spans the first to the last accepted frame of its task and carries the target's current
values wherever a frame is not accepted, so undo restores the track exactly.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .edits import Edit
from .errors import AffectTraceError
from .fsio import atomic_write_bytes, read_regular
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


@dataclass(frozen=True)
class AcceptPart:
    """What accepting writes into one task: the model's values over frames [start, start + len(values)) in
    the target's layout, and which of them are taken (bool, same shape; VA: both columns alike)."""

    task: str
    start: int
    values: np.ndarray
    take: np.ndarray

    @property
    def stop(self) -> int:
        return self.start + len(self.values)

    def edit(self, target: Track, author: str = "", keep_labels: bool = False) -> Edit | None:
        """The edit that writes the taken values into ``target`` as it is now (its current values elsewhere,
        so undo restores it exactly); ``keep_labels``: never over a label ``target`` has now. None: nothing."""
        cur = target.array(self.task)[self.start:self.stop]
        if len(cur) != len(self.values):
            raise ValueError(f"{self.task}: frames {self.start}-{self.stop - 1} are past the track's end")
        take = self.take.copy()
        if keep_labels:
            take &= _unlabelled(cur, self.task)
        if not take.any():
            return None
        new = cur.copy()
        new[take] = self.values[take]
        return Edit(target.video, target.name, self.task, self.start, new, author=author, kind=ACCEPT_KIND)


def _unlabelled(block: np.ndarray, task: str) -> np.ndarray:
    """Cells of ``block`` without a label, in the shape of the block (VA: both columns alike)."""
    if task == "va":
        return np.repeat(np.isnan(block).any(axis=1)[:, None], 2, axis=1)
    return block == (EXPR_MISSING if task == "expr" else AU_MISSING)


def accept_parts(model: Track, target: Track, tasks: Sequence[str] = TASKS, start: int = 0,
                 stop: int | None = None, min_confidence: float | None = None,
                 only_unlabelled: bool = False) -> list[AcceptPart]:
    """What accepting ``model``'s labels into ``target`` over frames [start, stop) takes, task by task.

    ``min_confidence``: only frames (AU: cells) whose confidence (core.modeltracks.cell_confidence) is at
    least this; frames without a confidence figure are then skipped. ``only_unlabelled``: keep the
    target's existing labels. Frames the model did not predict are never taken. Each part spans the first
    to the last taken frame of its task; nothing to accept gives an empty list."""
    n = min(model.n_frames, target.n_frames)
    stop = n if stop is None else min(int(stop), n)
    start = max(0, int(start))
    parts: list[AcceptPart] = []
    if stop <= start:
        return parts
    for task in tasks:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
        vals, has, conf = _model_values(model, target, task)
        take = has[start:stop].copy()
        if min_confidence is not None:
            with np.errstate(invalid="ignore"):
                take &= np.nan_to_num(conf[start:stop], nan=-1.0) >= float(min_confidence)
        if task == "va":
            take = np.repeat(take[:, None], 2, axis=1)
        if only_unlabelled:
            take &= _unlabelled(target.array(task)[start:stop], task)
        rows = np.flatnonzero(take.any(axis=1) if take.ndim == 2 else take)
        if not len(rows):
            continue
        lo, hi = start + int(rows[0]), start + int(rows[-1]) + 1
        parts.append(AcceptPart(task, lo, vals[lo:hi].copy(), take[rows[0]:rows[-1] + 1].copy()))
    return parts


def accept_edits(model: Track, target: Track, tasks: Sequence[str] = TASKS, start: int = 0,
                 stop: int | None = None, min_confidence: float | None = None, only_unlabelled: bool = False,
                 author: str = "") -> list[Edit]:
    """Edits writing ``model``'s labels into ``target`` over frames [start, stop) (see accept_parts), one per
    task, to push as ONE undo step."""
    parts = accept_parts(model, target, tasks, start, stop, min_confidence, only_unlabelled)
    return [e for e in (p.edit(target, author) for p in parts) if e is not None]


@dataclass(frozen=True)
class AcceptPlan:
    """What `affecttrace accept --plan-out` hands an app holding the project open: the app turns the parts
    into edits of its own copy of the track, pushed as one undo step."""

    model: str
    video: str
    track: str
    parts: list[AcceptPart]


PLAN_FORMAT = "affecttrace-accept-plan-1"


def save_plan(path: Path, plan: AcceptPlan) -> None:
    """Write ``plan`` to ``path`` (.npz, atomically)."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(PLAN_FORMAT), "model": np.array(plan.model), "video": np.array(plan.video),
        "track": np.array(plan.track), "tasks": np.array([p.task for p in plan.parts], dtype=str),
        "starts": np.array([p.start for p in plan.parts], dtype=np.int64)}
    for i, p in enumerate(plan.parts):
        arrays[f"values{i}"], arrays[f"take{i}"] = p.values, p.take
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # numpy's stub types **arrays as its allow_pickle flag
    atomic_write_bytes(path, buf.getvalue(), error=AffectTraceError)


def load_plan(path: Path) -> AcceptPlan:
    """The plan in ``path``; an AffectTraceError naming the file when it is not one."""
    data = read_regular(path, AffectTraceError, limit=1 << 30)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            if str(z["format"]) != PLAN_FORMAT:
                raise ValueError(f"format {str(z['format'])[:40]!r}")
            tasks, starts = [str(t) for t in z["tasks"]], [int(s) for s in z["starts"]]
            parts = []
            for i, (task, start) in enumerate(zip(tasks, starts, strict=True)):
                values, take = z[f"values{i}"], z[f"take{i}"]
                if task not in TASKS or start < 0 or take.dtype != bool or take.shape != values.shape:
                    raise ValueError(f"part {i} is malformed")
                parts.append(AcceptPart(task, start, values, take))
            return AcceptPlan(str(z["model"]), str(z["video"]), str(z["track"]), parts)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise AffectTraceError(f"not an accept plan ({str(e)[:120]})", path) from None
