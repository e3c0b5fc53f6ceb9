"""Undoable edit operations on tracks (the SLEAP command pattern, without Qt).

Every edit records who made it, when, and the values it replaced, so it can be undone, redone,
journaled and replayed. The GUI wraps these in a QUndoStack; headless code uses EditHistory.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .events import Signal
from .labels import AU_MISSING, EXPR_MISSING
from .tracks import Track

_TASKS = ("va", "expr", "au", "au_intensity")


def missing_value(task: str) -> float | int:
    return np.nan if task == "va" else (EXPR_MISSING if task == "expr" else AU_MISSING)


def _is_missing(task: str, a: np.ndarray) -> np.ndarray:
    """Per-frame (and per-column) mask of unlabelled entries, same shape as ``a``."""
    return np.isnan(a) if task == "va" else a == missing_value(task)


def encode_values(arr: np.ndarray, task: str) -> list[Any]:
    """Values as JSON lists, the journal's one spelling: VA's NaN (unlabelled) becomes None."""
    vals = arr.astype(object)
    if task == "va":
        vals[np.isnan(arr)] = None
    return vals.tolist()


def decode_values(values: list[Any], task: str) -> np.ndarray:
    """The inverse of :func:`encode_values` (None -> NaN for VA; int8 labels otherwise)."""
    vals = np.array(values, dtype=object)
    if task == "va":
        vals[vals == None] = np.nan  # noqa: E711 (elementwise)
        return vals.astype(np.float32)
    return vals.astype(np.int8)


@dataclass
class Edit:
    """Write ``values`` into ``track.array(task)[start:start+len(values), columns]``.

    ``columns`` selects AU columns (or VA dims: 0 valence, 1 arousal) and is None for all.
    ``only_unlabelled`` keeps already-labelled entries (the "fill" mode). ``old`` is filled on apply.
    """

    video: str
    track: str
    task: str
    start: int
    values: np.ndarray
    columns: tuple[int, ...] | None = None
    only_unlabelled: bool = False
    author: str = ""
    kind: str = "set"  # set | fill | clear | record: what the user did, for the journal and the undo text
    timestamp: float = field(default_factory=time.time)
    old: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.task not in _TASKS:
            raise ValueError(f"unknown task {self.task!r}")
        dtype = np.float32 if self.task == "va" else np.int8
        self.values = np.asarray(self.values, dtype=dtype)

    @property
    def stop(self) -> int:
        return self.start + len(self.values)

    def _view(self, track: Track) -> np.ndarray:
        arr = track.array(self.task)
        if not 0 <= self.start <= self.stop <= len(arr):
            raise IndexError(f"edit frames {self.start}..{self.stop - 1} outside {self.video} (0..{len(arr) - 1})")
        return arr[self.start:self.stop] if self.columns is None else arr[self.start:self.stop][:, list(self.columns)]

    def _write(self, track: Track, block: np.ndarray) -> None:
        arr = track.array(self.task)
        if self.columns is None:
            arr[self.start:self.stop] = block
        else:
            sub = arr[self.start:self.stop]
            sub[:, list(self.columns)] = block
            arr[self.start:self.stop] = sub

    def apply(self, track: Track) -> None:
        current = self._view(track).copy()
        self.old = current
        new = np.broadcast_to(self.values.reshape(self.values.shape + (1,) * (current.ndim - self.values.ndim)),
                              current.shape).astype(current.dtype, copy=True)
        if self.only_unlabelled:
            keep = ~_is_missing(self.task, current)
            new[keep] = current[keep]
        self._write(track, new)

    def revert(self, track: Track) -> None:
        if self.old is None:
            raise RuntimeError("revert before apply")
        self._write(track, self.old)

    def describe(self) -> str:
        frames = f"frame {self.start}" if len(self.values) == 1 else f"frames {self.start}-{self.stop - 1}"
        return f"{self.kind} {self.task} {frames}"

    def to_record(self) -> dict[str, Any]:
        """A JSON-able record for the journal (values as lists; NaN written as None)."""
        return {"video": self.video, "track": self.track, "task": self.task, "start": self.start,
                "values": encode_values(self.values, self.task),
                "columns": None if self.columns is None else list(self.columns),
                "only_unlabelled": self.only_unlabelled, "author": self.author, "kind": self.kind,
                "timestamp": self.timestamp}

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> "Edit":
        task = r["task"]
        return cls(r["video"], r["track"], task, int(r["start"]), decode_values(r["values"], task),
                   None if r.get("columns") is None else tuple(r["columns"]), bool(r.get("only_unlabelled")),
                   r.get("author", ""), r.get("kind", "set"), float(r.get("timestamp", 0.0)))


def set_range(video: str, track: str, task: str, start: int, stop: int, value: Any, *, columns=None,
              author: str = "", fill: bool = False) -> Edit:
    """Set frames [start, stop) of a task to one value (a VA pair, a class, AU 0/1 per column)."""
    n = stop - start
    v = np.asarray(value, dtype=np.float32 if task == "va" else np.int8)
    values = np.repeat(v[None, ...], n, axis=0) if v.ndim else np.full(n, v)
    return Edit(video, track, task, start, values, columns, fill, author, "fill" if fill else "set")


def clear_range(video: str, track: str, task: str, start: int, stop: int, *, columns=None, n_columns: int | None = None,
                author: str = "") -> Edit:
    """Mark frames [start, stop) unlabelled (for the given columns, or all)."""
    width = len(columns) if columns is not None else n_columns
    if task == "au" and width is None:
        raise ValueError("clear_range on AU needs columns or n_columns")
    shape = (stop - start,) if task == "expr" else (stop - start, 2 if task == "va" else int(width or 0))
    values = np.full(shape, missing_value(task), dtype=np.float32 if task == "va" else np.int8)
    return Edit(video, track, task, start, values, columns, False, author, "clear")


def record(video: str, track: str, task: str, start: int, samples: np.ndarray, *, columns=None,
           author: str = "", fill: bool = False) -> Edit:
    """A recorded run of consecutive samples (one per frame), e.g. a joystick pass."""
    return Edit(video, track, task, start, np.asarray(samples), columns, fill, author, "record")


class EditHistory:
    """Undo/redo over edits for headless use (the GUI uses a QUndoStack over the same calls).

    ``apply``/``revert`` are the owner's functions (a Project journals them). ``changed`` fires
    (edit, undone: bool) after each change.
    """

    def __init__(self, apply: Callable[[Edit], None], revert: Callable[[Edit], None]) -> None:
        self._apply = apply
        self._revert = revert
        self._done: list[Edit] = []
        self._undone: list[Edit] = []
        self.changed = Signal()

    def push(self, edit: Edit) -> None:
        self._apply(edit)
        self._done.append(edit)
        self._undone.clear()
        self.changed.emit(edit, False)

    def undo(self) -> Edit | None:
        if not self._done:
            return None
        e = self._done.pop()
        self._revert(e)
        self._undone.append(e)
        self.changed.emit(e, True)
        return e

    def redo(self) -> Edit | None:
        if not self._undone:
            return None
        e = self._undone.pop()
        self._apply(e)
        self._done.append(e)
        self.changed.emit(e, False)
        return e

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)
