"""ABAW scores of any project track against any reference track, per video and for the project.

Scoring goes through core.metrics.evaluate_pairs, the function behind `affecttrace evaluate`, on the
same tracks that `evaluate --pred PROJECT:SPEC --ref PROJECT:SPEC` loads, so the numbers are identical.
A track is named as in `evaluate`: a track name ('fused', 'model-r1') or '@ANNOTATOR'.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import AffectTraceError
from ..fsio import atomic_write_with
from ..interchange.tracksel import find_track_name
from ..jobevents import json_safe
from ..labels import TASKS
from ..metrics import evaluate_pairs
from ..tracks import Track

if TYPE_CHECKING:
    from ..project import Project

PROJECT_ROW = "(project)"  # the video column of the rows pooling every video
# the parts of each task shown beside its score, as `affecttrace evaluate` prints them
PARTS: dict[str, tuple[str, ...]] = {"va": ("ccc_valence", "ccc_arousal"), "expr": ("f1", "accuracy"),
                                     "au": ("f1", "accuracy")}
TABLE_COLUMNS = ("video", "task", "track", "reference", "score", "part1", "value1", "part2", "value2", "frames")


def find_track(project: Project, video: str, spec: str) -> str | None:
    """The name of the track ``spec`` ('NAME' or '@ANNOTATOR') on ``video``, or None."""
    if spec.startswith("@"):
        return find_track_name(project, video, annotator=spec[1:])
    return find_track_name(project, video, track=spec)


def track_pairs(project: Project, spec: str, reference: str, videos: Sequence[str] | None = None,
                au_threshold: float | None = None) -> dict[str, tuple[Track, Track]]:
    """video -> (track, reference track) for the videos that have both. ``au_threshold``: tool tracks' AU
    presence re-read at that intensity / probability (core.interchange.tooldata.with_au_threshold)."""
    from ..interchange.tooldata import with_au_threshold

    out = {}
    for v in videos if videos is not None else list(project.videos):
        a, b = find_track(project, v, spec), find_track(project, v, reference)
        if a is not None and b is not None:
            out[v] = (with_au_threshold(project, project.track(v, a), au_threshold),
                      with_au_threshold(project, project.track(v, b), au_threshold))
    return out


def compare_tracks(project: Project, spec: str, reference: str, tasks: Sequence[str] = TASKS,
                   videos: Sequence[str] | None = None, abaw: int = 2022,
                   au_threshold: float | None = None) -> dict[str, dict]:
    """task -> `affecttrace evaluate`'s result (overall, videos) of ``spec`` against ``reference``.

    A task neither track labels on any common video is left out. NaN is None (as in evaluate's JSON)."""
    pairs = track_pairs(project, spec, reference, videos, au_threshold)
    if not pairs:
        raise AffectTraceError(f"no video has both {spec!r} and {reference!r}", project.folder)
    out = {}
    for task in tasks:
        if task not in TASKS:
            raise AffectTraceError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
        if not any(r.labelled(task).any() for _t, r in pairs.values()):
            continue
        try:
            out[task] = json_safe(evaluate_pairs(list(pairs.values()), task, abaw))
        except ValueError as e:
            raise AffectTraceError(f"{spec} vs {reference}, {task}: {e}", project.folder) from e
    return out


def comparison_rows(project: Project, specs: Sequence[str], reference: str, tasks: Sequence[str] = TASKS,
                    videos: Sequence[str] | None = None, abaw: int = 2022,
                    au_threshold: float | None = None) -> list[dict[str, Any]]:
    """The comparison table: for each track spec (not the reference itself) and task, one row per
    video and one pooled over the project (video ``PROJECT_ROW``); columns TABLE_COLUMNS."""
    rows: list[dict[str, Any]] = []
    for spec in specs:
        if spec == reference or not track_pairs(project, spec, reference, videos):
            continue
        for task, res in compare_tracks(project, spec, reference, tasks, videos, abaw, au_threshold).items():
            for video, r in [(PROJECT_ROW, res["overall"])] + list(res["videos"].items()):
                a, b = PARTS[task]
                rows.append({"video": video, "task": task, "track": spec, "reference": reference,
                             "score": r["score"], "part1": a, "value1": r.get(a), "part2": b, "value2": r.get(b),
                             "frames": r["frames"]})
    return rows


def au_rules(project: Project, specs: Sequence[str], au_threshold: float | None = None,
             videos: Sequence[str] | None = None) -> dict[str, str]:
    """spec -> how its AU labels are read, for the tool tracks among ``specs`` (the stated AU threshold)."""
    from ..interchange.tooldata import au_rule

    out: dict[str, str] = {}
    for spec in specs:
        for v in videos if videos is not None else list(project.videos):
            name = find_track(project, v, spec)
            if name is not None and project.track_source(v, name).tool is not None:
                out[spec] = f"{project.track_source(v, name).tool}: {au_rule(project.track(v, name), au_threshold)}"
                break
    return out


def all_track_specs(project: Project, videos: Sequence[str] | None = None) -> list[str]:
    """Every track name of the videos (annotators' tracks as '@NAME'), sorted, each once."""
    from ..tracks import TrackKind

    specs = set()
    for v in videos if videos is not None else list(project.videos):
        for name in project.track_names(v):
            src = project.track_source(v, name)
            specs.add(f"@{src.annotator}" if src.kind == TrackKind.HUMAN and src.annotator else name)
    return sorted(specs)


def write_table_csv(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    """The comparison table as CSV (empty cells: no score), written atomically, never through a link."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(TABLE_COLUMNS))
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in TABLE_COLUMNS})
            f.flush()
            os.fsync(f.fileno())

    atomic_write_with(Path(path), write, error=AffectTraceError)
