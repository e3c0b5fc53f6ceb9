"""Model tracks from the annotation side: which videos still lack human labels, how confident a model
track is per frame (for accepting its labels and for shading the timeline), and the track file that
`affecttrace predict --tracks-out` writes for an app that holds the project open.

Confidence is a number in [0, 1] per frame (NaN where the model gave no prediction):
  EXPR  the probability of the predicted class;
  AU    per AU max(p, 1 - p), the probability of the predicted state; per frame the mean over AUs;
  VA    1 - mean(valence_std, arousal_std) / VA_STD_SCALE, clipped to [0, 1] (core.nn.uncertainty).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .labels import TASKS
from .tracks import Track, TrackKind

if TYPE_CHECKING:
    from .project import Project

VA_STD_SCALE = 0.5  # a spread of a quarter of the VA range (or more) is no confidence at all


def has_labels(track: Track) -> bool:
    """Any frame labelled for any task."""
    return any(bool(track.labelled(t).any()) for t in TASKS)


def labelled_by_people(project: Project, video: str) -> bool:
    """True when a human or fused track of the video has any label."""
    for name in project.track_names(video):
        if project.track_source(video, name).kind != TrackKind.MODEL and has_labels(project.track(video, name)):
            return True
    return False


def unlabelled_videos(project: Project, videos: list[str] | None = None) -> list[str]:
    """The videos (of ``videos``, default all) without any human or fused label."""
    return [v for v in (videos if videos is not None else list(project.videos)) if not labelled_by_people(project, v)]


def model_track_names(project: Project, video: str) -> list[str]:
    return [n for n in project.track_names(video) if project.track_source(video, n).kind == TrackKind.MODEL]


def cell_confidence(track: Track, task: str) -> np.ndarray:
    """Confidence of each predicted value: (n,) for VA and EXPR, (n, k) for AU (one per AU column).

    NaN where the track has no prediction or no confidence array for the task (a human track, or a
    model track made before the array existed)."""
    n = track.n_frames
    if task == "va":
        if track.va_std is None:
            return np.full(n, np.nan, np.float32)
        with np.errstate(invalid="ignore"):
            return np.clip(1.0 - track.va_std.mean(axis=1) / VA_STD_SCALE, 0.0, 1.0).astype(np.float32)
    if task == "expr":
        if track.expr_prob is None:
            return np.full(n, np.nan, np.float32)
        p = np.where(np.isfinite(track.expr_prob), track.expr_prob, -np.inf).max(axis=1)
        return np.where(np.isfinite(p), p, np.nan).astype(np.float32)
    if task == "au":
        if track.au_prob is None:
            return np.full(track.au.shape, np.nan, np.float32)
        return np.maximum(track.au_prob, 1.0 - track.au_prob).astype(np.float32)
    raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")


def frame_confidence(track: Track, task: str) -> np.ndarray:
    """(n,) float32 in [0, 1] per frame for a timeline strip (AU: mean over AUs); NaN: no prediction."""
    c = cell_confidence(track, task)
    if c.ndim == 1:
        return c
    ok = np.isfinite(c)
    count = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(ok, c, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan).astype(np.float32)


# ------------------------------------------------------------------ prediction files

def write_prediction_file(path: Path, tracks: list[Track]) -> None:
    """Model tracks into one HDF5 track file (the project's pack format), for another process to import."""
    from .project.storage import write_pack

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_pack(Path(path), tracks)


def read_prediction_file(path: Path) -> list[Track]:
    """Every track of a file written by ``write_prediction_file``; a damaged file is a ProjectError naming it."""
    import json

    import h5py

    from .errors import ProjectError
    from .project.storage import read_track

    path = Path(path)
    try:
        with h5py.File(path, "r", locking=False) as f:
            groups = [(k, json.loads(f[k].attrs["meta"])) for k in sorted(f.keys(), key=lambda k: int(k[1:]))]
    except (OSError, KeyError, ValueError) as e:
        raise ProjectError(f"not a readable prediction file ({e})", path) from e
    return [read_track(path, "/" + k, str(m["video"]), str(m["name"])) for k, m in groups]
