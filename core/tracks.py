"""Annotation tracks: per video x track (annotator, model run or fusion), frame-indexed arrays.

In memory: VA float32 (n, 2) with NaN for unlabelled; EXPR int8 (n,) with -1; AU int8 (n, k)
with -1; optional AU intensity int8 (n, k) with -1. Model tracks may also carry probabilities.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from .labels import AU_MISSING, EXPR_MISSING, TASKS, AUSet

TOOL_KEY = "tool"  # recipe key naming the tool of a tool track (TrackSource.from_tool)


class TrackKind(str, Enum):
    HUMAN = "human"
    MODEL = "model"
    FUSED = "fused"


@dataclass(frozen=True)
class TrackSource:
    """Who or what made a track: an annotator, a model run (with checkpoint hash) or a fusion recipe."""

    kind: TrackKind
    annotator: str | None = None
    run_id: str | None = None
    checkpoint_hash: str | None = None
    recipe: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def human(cls, annotator: str) -> "TrackSource":
        return cls(TrackKind.HUMAN, annotator=annotator)

    @classmethod
    def model(cls, run_id: str, checkpoint_hash: str, **recipe: Any) -> "TrackSource":
        return cls(TrackKind.MODEL, run_id=run_id, checkpoint_hash=checkpoint_hash, recipe=dict(recipe))

    @classmethod
    def fused(cls, **recipe: Any) -> "TrackSource":
        return cls(TrackKind.FUSED, recipe=dict(recipe))

    @classmethod
    def from_tool(cls, tool: str, file_hash: str, **recipe: Any) -> "TrackSource":
        """Another tool's output (OpenFace, py-feat): a model track (read-only, scored, shown and accepted like
        one) whose recipe names the tool; ``file_hash`` (sha256 of the file read) plays the checkpoint's part."""
        return cls(TrackKind.MODEL, run_id=f"{tool}-{file_hash[:12]}", checkpoint_hash=file_hash,
                   recipe={TOOL_KEY: tool, **recipe})

    @property
    def tool(self) -> str | None:
        """The tool that made a tool track ('openface', 'py-feat'); None for any other track."""
        value = self.recipe.get(TOOL_KEY) if self.kind == TrackKind.MODEL else None
        return str(value) if value else None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind.value}
        for k in ("annotator", "run_id", "checkpoint_hash"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        if self.recipe:
            d["recipe"] = self.recipe
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrackSource":
        return cls(TrackKind(d["kind"]), d.get("annotator"), d.get("run_id"), d.get("checkpoint_hash"),
                   dict(d.get("recipe", {})))


@dataclass
class Track:
    """All labels of one track on one video. Arrays are owned; edit them through core.edits."""

    video: str
    name: str
    source: TrackSource
    au_names: tuple[str, ...]
    va: np.ndarray
    expr: np.ndarray
    au: np.ndarray
    au_intensity: np.ndarray | None = None
    expr_prob: np.ndarray | None = None  # model tracks: (n, 8) float32
    au_prob: np.ndarray | None = None  # model tracks: (n, k) float32
    va_std: np.ndarray | None = None  # model tracks: (n, 2) float32 VA uncertainty (core.nn.uncertainty)

    @classmethod
    def empty(cls, video: str, name: str, source: TrackSource, n_frames: int, aus: AUSet | tuple[str, ...],
              with_intensity: bool = False) -> "Track":
        names = tuple(aus.aus if isinstance(aus, AUSet) else aus)
        k = len(names)
        return cls(
            video=video, name=name, source=source, au_names=names,
            va=np.full((n_frames, 2), np.nan, dtype=np.float32),
            expr=np.full(n_frames, EXPR_MISSING, dtype=np.int8),
            au=np.full((n_frames, k), AU_MISSING, dtype=np.int8),
            au_intensity=np.full((n_frames, k), AU_MISSING, dtype=np.int8) if with_intensity else None,
        )

    def __post_init__(self) -> None:
        n = len(self.va)
        k = len(self.au_names)
        self.va = np.asarray(self.va, dtype=np.float32).reshape(n, 2)
        self.expr = np.asarray(self.expr, dtype=np.int8).reshape(n)
        self.au = np.asarray(self.au, dtype=np.int8).reshape(n, k)
        if self.au_intensity is not None:
            self.au_intensity = np.asarray(self.au_intensity, dtype=np.int8).reshape(n, k)

    @property
    def n_frames(self) -> int:
        return len(self.va)

    def array(self, task: str) -> np.ndarray:
        """The array behind a task name: 'va', 'expr', 'au' or 'au_intensity'."""
        if task == "au_intensity":
            if self.au_intensity is None:
                self.au_intensity = np.full_like(self.au, AU_MISSING)
            return self.au_intensity
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)} or au_intensity")
        return getattr(self, task)

    def labelled(self, task: str) -> np.ndarray:
        """Boolean (n,) mask of frames labelled for a task (VA: both values; AU: every AU)."""
        if task == "va":
            return ~np.isnan(self.va).any(axis=1)
        if task == "expr":
            return self.expr != EXPR_MISSING
        if task == "au":
            return (self.au != AU_MISSING).all(axis=1) if self.au.shape[1] else np.zeros(self.n_frames, bool)
        raise ValueError(f"unknown task {task!r}")

    def coverage(self) -> dict[str, float]:
        """Share of frames labelled per task, 0..1."""
        n = max(self.n_frames, 1)
        return {t: float(self.labelled(t).sum()) / n for t in TASKS}

    def copy(self) -> "Track":
        return Track(self.video, self.name, self.source, self.au_names, self.va.copy(), self.expr.copy(),
                     self.au.copy(), None if self.au_intensity is None else self.au_intensity.copy(),
                     None if self.expr_prob is None else self.expr_prob.copy(),
                     None if self.au_prob is None else self.au_prob.copy(),
                     None if self.va_std is None else self.va_std.copy())
