"""Where `affecttrace evaluate` reads tracks from: Aff-Wild2 files or folders, or project tracks.

Spellings of a source:
  PATH.txt              one Aff-Wild2 label file; the video is the file name without .txt
  FOLDER                every .txt below it; a dataset tree (either layout) gives the task's folder
  PROJECT               a project folder: each video's 'affwild2' track, else its only track
  PROJECT:TRACK         a project folder and a track name, e.g. demo:fused or proj:run-3
  PROJECT:@ANNOTATOR    the human track of an annotator, e.g. demo:@ann1
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import AffectTraceError, LabelFileError
from ..tracks import Track, TrackSource
from .affwild2 import InvalidLabelsError, fill_task
from .labelfile import parse_label_file
from .layout import find_task_folders
from .tracksel import pick_tracks

if TYPE_CHECKING:
    from ..project import Project


def _project_part(spec: str) -> tuple[Path, str | None] | None:
    if (Path(spec) / "project.json").exists():
        return Path(spec), None
    if ":" in spec:
        folder, track = spec.rsplit(":", 1)
        if folder and (Path(folder) / "project.json").exists():
            return Path(folder), track or None
    return None


def _label_files(path: Path, task: str) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise LabelFileError("no such file or folder (nor PROJECT:TRACK)", path)
    try:
        _, tasks = find_task_folders(path)
    except LabelFileError:
        return sorted(path.rglob("*.txt"))
    if task not in tasks:
        raise LabelFileError(f"the dataset has no {task} folder", path)
    return sorted(tasks[task].rglob("*.txt"))


def tracks_from_files(path: Path, task: str) -> dict[str, Track]:
    """video -> Track holding the task's labels read from Aff-Wild2 files (validated)."""
    out: dict[str, Track] = {}
    problems = []
    files = _label_files(path, task)
    if not files:
        raise LabelFileError("no .txt label file found", path)
    for f in files:
        lf, probs = parse_label_file(f, task)
        if lf is None:
            problems += probs
            continue
        if f.stem in out:
            raise LabelFileError(f"two files for video {f.stem!r}", f)
        aus = lf.columns if task == "au" else ()
        t = Track.empty(f.stem, f.stem, TrackSource.fused(source=str(f)), lf.n_lines, aus)
        fill_task(t, task, lf.values, lf.columns)
        out[f.stem] = t
    if problems:
        raise InvalidLabelsError(problems, path)
    return out


def load_source(spec: str, task: str, au_threshold: float | None = None) -> tuple[dict[str, Track], Project | None]:
    """(video -> Track, open read-only project or None) for a source spelling (see the module doc).
    ``au_threshold``: a project's tool tracks get their AU presence re-read at it (core.interchange.tooldata)."""
    proj = _project_part(spec)
    if proj is None:
        return tracks_from_files(Path(spec), task), None
    from ..project import Project

    folder, track = proj
    p = Project.open(folder, readonly=True)
    try:
        from .tooldata import with_au_threshold

        picked = pick_tracks(p, annotator=track[1:]) if track and track.startswith("@") else pick_tracks(p, track=track)
        return {v: with_au_threshold(p, t, au_threshold) for v, t in picked.items()}, p
    except AffectTraceError:
        p.close()
        raise


def match_videos(pred: dict[str, Track], ref: dict[str, Track]) -> tuple[list[str], list[str], list[str]]:
    """(videos in both, reference videos without prediction, predicted videos without reference)."""
    both = [v for v in ref if v in pred]
    return both, [v for v in ref if v not in pred], [v for v in pred if v not in ref]


def has_labels(track: Track, task: str) -> bool:
    return bool(np.any(track.labelled(task)))
