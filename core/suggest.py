"""Which segments to label next: a per-frame suggestion score and the segments ranked by it.

The score of a frame, in [0, 1], is the weighted mean of three parts (a part that cannot be computed
at a frame counts 0 there):
  uncertainty   the model's own doubt: EXPR entropy / log(classes), AU mean of 1 - |2p - 1| (1 at
                p = 0.5), VA spread / core.modeltracks.VA_STD_SCALE (capped at 1); mean over the tasks;
  disagreement  1 - agreement (core.compare.agreement_series, clipped to [0, 1]) of the model with the
                people's reference track, mean over the tasks, where the people labelled;
  unlabelled    the share of tasks no human or fused track labels at the frame.
Segments are fixed tiles of ``segment`` frames, ranked by their mean score.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .compare.window import Segment, agreement_series
from .labels import TASKS
from .modeltracks import VA_STD_SCALE, model_track_names
from .tracks import Track, TrackKind
from .words import SEGMENT_SECONDS, SUGGESTION_COUNT

if TYPE_CHECKING:
    from .project import Project

AGREEMENT_WINDOW_SECONDS = 2.0
PARTS = ("uncertainty", "disagreement", "unlabelled")


@dataclass
class Weights:
    uncertainty: float = 1.0
    disagreement: float = 1.0
    unlabelled: float = 1.0

    def total(self) -> float:
        return self.uncertainty + self.disagreement + self.unlabelled


def _nanmean_rows(parts: list[np.ndarray], n: int) -> np.ndarray:
    if not parts:
        return np.full(n, np.nan, np.float32)
    a = np.stack(parts, axis=1)
    ok = np.isfinite(a)
    count = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(ok, a, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan).astype(np.float32)


def uncertainty(model: Track, tasks: Sequence[str] = TASKS) -> np.ndarray:
    """(n,) float32 in [0, 1] of the model's doubt (see the module doc); NaN where it has no figure."""
    n, parts = model.n_frames, []
    if "expr" in tasks and model.expr_prob is not None:
        p = np.clip(model.expr_prob.astype(np.float64), 1e-12, 1.0)
        with np.errstate(invalid="ignore"):
            h = -(p * np.log(p)).sum(axis=1) / np.log(p.shape[1])
        parts.append(np.where(np.isfinite(model.expr_prob).all(axis=1), h, np.nan))
    if "au" in tasks and model.au_prob is not None:
        parts.append(_nanmean_rows(list((1.0 - np.abs(2.0 * model.au_prob - 1.0)).T), n))
    if "va" in tasks and model.va_std is not None:
        with np.errstate(invalid="ignore"):
            parts.append(np.minimum(model.va_std.mean(axis=1) / VA_STD_SCALE, 1.0))
    return _nanmean_rows(parts, n)


def disagreement(model: Track, reference: Track, window: int, tasks: Sequence[str] = TASKS) -> np.ndarray:
    """(n,) float32 in [0, 1]: 1 - windowed agreement of the model with the reference, mean over tasks."""
    parts = []
    for t in tasks:
        if reference.labelled(t).any():
            a = agreement_series(model, reference, t, window).values
            parts.append(np.where(reference.labelled(t), 1.0 - np.clip(a, 0.0, 1.0), np.nan))
    return _nanmean_rows(parts, reference.n_frames)


def unlabelled(people: Sequence[Track], n_frames: int, tasks: Sequence[str] = TASKS) -> np.ndarray:
    """(n,) float32: the share of ``tasks`` that none of the human/fused tracks labels at each frame."""
    missing = np.zeros(n_frames, np.float32)
    for t in tasks:
        done = np.zeros(n_frames, bool)
        for tr in people:
            m = tr.labelled(t)[:n_frames]
            done[: len(m)] |= m
        missing += ~done
    return missing / max(len(tasks), 1)


@dataclass
class Suggestions:
    """Per-frame score and its parts, and the segments ranked best first."""

    score: np.ndarray  # (n,) float32 in [0, 1]
    parts: dict[str, np.ndarray] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    model: str | None = None
    reference: str | None = None

    def to_dict(self, fps: float) -> dict[str, Any]:
        return {"model": self.model, "reference": self.reference,
                "segments": [{**s.to_dict(), "start_s": round(s.start / fps, 3), "stop_s": round(s.stop / fps, 3)}
                             for s in self.segments]}


def suggestion_score(n_frames: int, model: Track | None, reference: Track | None, people: Sequence[Track],
                     window: int, tasks: Sequence[str] = TASKS, weights: Weights | None = None
                     ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(score (n,), parts) as described in the module doc."""
    w = weights or Weights()
    zero = np.zeros(n_frames, np.float32)
    parts = {"uncertainty": uncertainty(model, tasks) if model is not None else zero,
             "disagreement": (disagreement(model, reference, window, tasks)
                              if model is not None and reference is not None else zero),
             "unlabelled": unlabelled(people, n_frames, tasks)}
    total = sum(getattr(w, k) * np.nan_to_num(v[:n_frames], nan=0.0) for k, v in parts.items())
    return (total / max(w.total(), 1e-12)).astype(np.float32), parts


def rank_segments(score: np.ndarray, segment: int, count: int | None = None) -> list[Segment]:
    """Tiles of ``segment`` frames ranked by mean score, best first (the last tile may be shorter)."""
    n = len(score)
    segment = max(1, int(segment))
    starts = np.arange(0, n, segment)
    sums = np.add.reduceat(np.nan_to_num(score, nan=0.0).astype(np.float64), starts) if n else np.empty(0)
    means = sums / np.minimum(segment, n - starts)
    order = np.argsort(-means, kind="stable")[: count if count is not None else len(starts)]
    return [Segment(int(starts[i]), int(min(n, starts[i] + segment)), float(means[i])) for i in order]


def next_suggested(segments: Sequence[Segment], frame: int) -> Segment | None:
    """Of the ranked segments, the first that starts after ``frame``, else the earliest (wrapping)."""
    if not segments:
        return None
    after = [s for s in segments if s.start > frame]
    return min(after or segments, key=lambda s: s.start)


def default_reference(project: Project, video: str, annotator: str | None = None) -> str | None:
    """The people's track to compare the model with, always one with labels: the fused track, else the
    human track with the most labels (``annotator``'s own on a tie); None when no person labelled the video
    (an empty track, your own included, is never a reference: it would make every frame "agree")."""
    from .interchange.tracksel import find_track_name

    def count(name: str) -> int:
        t = project.track(video, name)
        return int(sum(t.labelled(task).sum() for task in TASKS))

    fused = find_track_name(project, video, fused=True)
    if fused is not None and count(fused) > 0:
        return fused
    mine = find_track_name(project, video, annotator=annotator) if annotator else None
    humans = [n for n in project.track_names(video) if project.track_source(video, n).kind == TrackKind.HUMAN]
    best = max(humans, key=lambda n: (count(n), n == mine), default=None)
    return best if best is not None and count(best) > 0 else None


@dataclass
class SuggestionInputs:
    """What the suggestions of one video are computed from (``suggestion_inputs``); ``copied()`` detaches
    it from the project, so the score can be computed in another thread while the project is edited."""

    n_frames: int
    fps: float
    model_name: str | None
    model: Track | None
    reference_name: str | None
    reference: Track | None
    people: list[Track]  # the human and fused tracks

    def copied(self) -> SuggestionInputs:
        def cp(t: Track | None) -> Track | None:
            return None if t is None else t.copy()

        return SuggestionInputs(self.n_frames, self.fps, self.model_name, cp(self.model), self.reference_name,
                                cp(self.reference), [t.copy() for t in self.people])


def suggestion_inputs(project: Project, video: str, model: str | None = None, reference: str | None = None,
                      annotator: str | None = None) -> SuggestionInputs:
    """The tracks ``video_suggestions`` reads. ``model``: a model track (default the video's last model
    track; with none there is no uncertainty or disagreement part); ``reference``: a track name or
    '@ANNOTATOR' (default: ``default_reference``; one the video lacks gives no disagreement part)."""
    from .agreement.report import video_fps

    if model is None:
        names = model_track_names(project, video)
        model = names[-1] if names else None
    if reference is not None:
        from .compare.scores import find_track

        reference = find_track(project, video, reference)
    else:
        reference = default_reference(project, video, annotator)
    people = [project.track(video, nm) for nm in project.track_names(video)
              if project.track_source(video, nm).kind != TrackKind.MODEL]
    return SuggestionInputs(int(project.videos[video].frame_count), video_fps(project, video), model,
                            project.track(video, model) if model else None, reference,
                            project.track(video, reference) if reference else None, people)


def suggest_from(inputs: SuggestionInputs, count: int | None = SUGGESTION_COUNT, tasks: Sequence[str] = TASKS,
                 weights: Weights | None = None, segment_s: float = SEGMENT_SECONDS) -> Suggestions:
    """Suggestions from ``suggestion_inputs`` (or a copy of them)."""
    i = inputs
    score, parts = suggestion_score(i.n_frames, i.model, i.reference, i.people,
                                    max(2, round(AGREEMENT_WINDOW_SECONDS * i.fps)), tasks, weights)
    segs = rank_segments(score, max(1, round(segment_s * i.fps)), count)
    return Suggestions(score, parts, segs, i.model_name, i.reference_name)


def video_suggestions(project: Project, video: str, model: str | None = None, reference: str | None = None,
                      annotator: str | None = None, count: int | None = SUGGESTION_COUNT, tasks: Sequence[str] = TASKS,
                      weights: Weights | None = None, segment_s: float = SEGMENT_SECONDS) -> Suggestions:
    """Suggestions for one video of a project (``suggestion_inputs`` says which tracks)."""
    return suggest_from(suggestion_inputs(project, video, model, reference, annotator), count, tasks, weights,
                        segment_s)
