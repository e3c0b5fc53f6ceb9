"""The per-frame numbers of a tool track that its labels do not hold (OpenFace AU intensities as floats,
confidence, pose, gaze; py-feat AU probabilities of AUs outside the project's set, face box, head pose).

Stored beside the project's tracks as ``tooldata/<video>/<track>-<sha12>.npz``: one float32 column per
name over the video's frames (NaN: no row for that frame), and a JSON ``meta``. ``sha12`` is the start
of the imported file's sha256, which the track's source also records (``checkpoint_hash``): a track
reads only the tool data of the file it came from, so an import that failed before its track was
saved leaves nothing the project uses. export-csv writes these columns as ``tool_<name>``.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ProjectError
from ..fsio import atomic_write_bytes, remove_quietly
from ..metrics import binarize
from ..safepaths import check_name
from ..tracks import Track

if TYPE_CHECKING:
    from ..project import Project

TOOLDATA_DIR = "tooldata"
TOOL_COLUMN_PREFIX = "tool_"  # export-csv's columns of tool data; import-csv leaves them out
INTENSITY_SUFFIX = "_r"  # 'AU12_r': OpenFace's intensity 0-5
PRESENCE_SUFFIX = "_c"  # 'AU12_c': OpenFace's presence 0/1
PROBABILITY_SUFFIX = "_p"  # 'AU12_p': py-feat's probability 0-1
AU_SCALE = {"openface": "AU_r intensity", "py-feat": "probability"}  # what --au-threshold cuts, per tool


@dataclass
class ToolData:
    columns: dict[str, np.ndarray]  # name -> (n,) float32
    meta: dict[str, Any] = field(default_factory=dict)


def tooldata_path(folder: Path, video: str, track: str, sha256: str) -> Path:
    for what, name in (("video name", video), ("track name", track)):
        check_name(name, what, folder, ProjectError)
    return Path(folder) / TOOLDATA_DIR / video / f"{track}-{sha256[:12]}.npz"


def write_tooldata(folder: Path, video: str, track: str, sha256: str, data: ToolData) -> Path:
    """Write (atomically) and return the path; the caller saves the track, then calls ``drop_stale``."""
    path = tooldata_path(folder, video, track, sha256)
    buf = io.BytesIO()
    arrays: dict[str, np.ndarray] = {f"c_{k}": np.asarray(v, np.float32) for k, v in data.columns.items()}
    arrays["__meta__"] = np.array(json.dumps(data.meta))
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds like allow_pickle
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue(), ProjectError)
    return path


def drop_stale(folder: Path, video: str, track: str, keep: Path | None) -> None:
    """Remove tool data of ``track`` other than ``keep`` (earlier imports, failed ones)."""
    d = Path(folder) / TOOLDATA_DIR / video
    if d.is_dir():
        for p in d.glob(f"{track}-*.npz"):
            if p != keep and p.stem[len(track) + 1:].isalnum() and len(p.stem) == len(track) + 13:
                remove_quietly(p)


def read_tooldata(project: Project, track: Track) -> ToolData | None:
    """The tool data of a tool track; None for other tracks or where it is missing (labels still work)."""
    sha = track.source.checkpoint_hash
    if track.source.tool is None or not sha:
        return None
    path = tooldata_path(project.folder, track.video, track.name, sha)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["__meta__"]))
            cols = {k[2:]: z[k] for k in z.files if k.startswith("c_")}
    except (OSError, ValueError, KeyError) as e:
        raise ProjectError(f"unreadable tool data ({str(e)[:160]})", path) from None
    return ToolData(cols, meta)


def au_rule(track: Track, threshold: float | None) -> str:
    """How a tool track's AU labels are read, in words ('' for other tracks)."""
    tool = track.source.tool
    if tool is None:
        return ""
    if threshold is None:
        return str(track.source.recipe.get("au_rule", ""))
    return f"{AU_SCALE.get(tool, 'AU score')} >= {threshold:g}"


def with_au_threshold(project: Project, track: Track, threshold: float | None) -> Track:
    """``track`` with its AU presence re-read at ``threshold``: a tool track with AU intensities (OpenFace
    AU_r >= threshold) or probabilities (py-feat p >= threshold). Other tracks, AUs without intensity or
    probability, and ``threshold`` None give the track unchanged."""
    if threshold is None or track.source.tool is None:
        return track
    out = track.copy()
    if out.au_prob is not None:
        out.au = binarize(out.au_prob, threshold)
        out.au_prob = None  # scored from these labels (core.metrics uses probabilities when it has them)
        return out
    data = read_tooldata(project, track)
    if data is None:
        raise ProjectError(f"track {track.video}/{track.name}: its tool data is missing, so --au-threshold cannot "
                           "re-read its AU intensities (import the file again)", project.folder)
    for j, a in enumerate(out.au_names):
        r = data.columns.get(a + INTENSITY_SUFFIX)
        if r is not None:
            out.au[:, j] = np.where(np.isfinite(r), r >= threshold, -1).astype(np.int8)
    return out


def export_columns(project: Project, track: Track) -> dict[str, np.ndarray]:
    """The tool data of a track as export-csv columns (``tool_<name>``); {} for other tracks."""
    data = read_tooldata(project, track)
    if data is None:
        return {}
    return {TOOL_COLUMN_PREFIX + k: v[: track.n_frames] for k, v in data.columns.items()}
