"""Aff-Wild2 label trees <-> project: import (validate first, write nothing on error) and export.

Labels land in one track per video (``affwild2``, a fused gold standard, or an annotator's human
track with ``annotator=``). Each ``<video>`` label name becomes a project video; ``_left``/``_right``/
``_main`` names share the media file of the name without the suffix. Crops in
``cropped_aligned/<video>/00001.jpg...`` are linked through ``VideoEntry.crops`` and frames without a
crop are listed in ``extra['affwild2']['missing_crops']`` as [start, stop) ranges.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import LabelFileError
from ..labels import AU_MISSING, EXPR_MISSING, au_set
from ..progress import Progress, no_progress
from ..project import Project
from ..project.incomplete import marked_incomplete
from ..project.manifest import VideoEntry, relative_media
from ..tracks import Track, TrackSource
from ..words import AFFWILD2_EXTRA_KEY
from .dataset import DatasetRead, read_dataset
from .labelfile import FileFormat, Problem, render_row
from .layout import index_media, media_stem
from .sidecar import load_formats, save_formats
from .tracksel import IMPORTED_TRACK

if TYPE_CHECKING:
    from ..media.info import MediaInfo



class InvalidLabelsError(LabelFileError):
    """Label files failed validation; ``problems`` lists every one (file and line)."""

    def __init__(self, problems: list[Problem], root: Path, advice: str = "") -> None:
        self.problems = problems
        files = len({p.path for p in problems})
        super().__init__(f"{files} invalid label file(s) (first: {problems[0]})" + (f"; {advice}" if advice else ""),
                         root)


@dataclass
class ImportReport:
    project: Path
    layout: str
    track: str
    videos: list[str] = field(default_factory=list)
    files: int = 0
    skipped: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    missing_media: list[str] = field(default_factory=list)
    missing_crops: dict[str, int] = field(default_factory=dict)
    no_crops: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"imported {self.files} label file(s) of {len(self.videos)} video(s) ({self.layout} layout) "
               f"into track {self.track!r} of {self.project}"]
        if self.skipped:
            out.append(f"left out {len(self.skipped)} invalid file(s):")
            out += [f"  {p}" for p in self.problems]
        out += [f"line count: {m}" for m in self.mismatches]
        if self.missing_media:
            out.append(f"media not found for {len(self.missing_media)} video(s), marked missing: "
                       + ", ".join(self.missing_media[:10]) + (" ..." if len(self.missing_media) > 10 else ""))
        for v, n in self.missing_crops.items():
            out.append(f"crops: {v}: {n} frame(s) without a crop")
        if self.no_crops:
            out.append(f"crops: no cropped_aligned folder for {len(self.no_crops)} video(s)")
        return out + self.notes


def _open_existing(project: Path) -> Project | None:
    """The project opened for writing, or None when the folder holds none yet (created after validation)."""
    if not (project / "project.json").exists():
        return None
    return Project.open_writable(project)


def _media_dirs(root: Path, media: Path | None) -> list[Path]:
    if media is not None:
        return [Path(media)]
    return [d for d in sorted(root.iterdir()) if d.is_dir() and any(k in d.name.lower() for k in ("video", "batch"))]


def _ranges(missing: np.ndarray) -> list[list[int]]:
    if not missing.size:
        return []
    breaks = np.flatnonzero(np.diff(missing) != 1)
    starts = np.concatenate([[missing[0]], missing[breaks + 1]])
    stops = np.concatenate([missing[breaks], [missing[-1]]]) + 1
    return [[int(a), int(b)] for a, b in zip(starts, stops)]


def crop_frames(folder: Path) -> np.ndarray:
    """0-based frame indices that have a crop image ``{i+1:05d}.jpg`` in ``folder``."""
    idx = []
    with os.scandir(folder) as it:
        for e in it:
            stem, ext = os.path.splitext(e.name)
            if ext.lower() in (".jpg", ".jpeg", ".png") and stem.isdigit():
                idx.append(int(stem) - 1)
    return np.array(sorted(idx), dtype=np.int64)


def import_affwild2(root: str | Path, project: str | Path, media: str | Path | None = None,
                    crops: str | Path | None = None, skip_invalid: bool = False, fps: str | int = 30,
                    annotator: str | None = None, progress: Progress = no_progress) -> ImportReport:
    """Validate every label file under ``root``, then import them into ``project`` (created if absent).

    Raises InvalidLabelsError (nothing written) when any file is invalid and ``skip_invalid`` is off.
    """
    from ..media import require_video

    root, project = Path(root), Path(project)
    ds = read_dataset(root, progress)
    problems = list(ds.problems)
    p = _open_existing(project)
    try:
        aus = p.au_set if p is not None else au_set(list(ds.au_names()) or "affwild2-12")
        problems += _drop_outside_au_set(ds, aus.aus)
        if problems and not skip_invalid:
            raise InvalidLabelsError(problems, root, "nothing imported; --skip-invalid imports the valid files "
                                     "and lists the others")
        if not ds.labels:
            raise LabelFileError("no valid Aff-Wild2 label file to import", root)
        track_name = annotator or IMPORTED_TRACK
        report = ImportReport(project, ds.layout, track_name, skipped=list(ds.invalid), problems=problems,
                              notes=list(ds.notes))
        media_index = _media_index(root, Path(media) if media else None)
        infos = {}
        for stem in sorted({media_stem(v) for v in ds.labels}):  # probe first: a bad file stops all
            if stem in media_index:
                infos[stem] = require_video(media_index[stem])[0]
        crops_root = Path(crops) if crops else root / "cropped_aligned"
        if p is None:
            Path(project).mkdir(parents=True, exist_ok=True)  # the marker goes in first: a kill leaves a warning
        with marked_incomplete(p.folder if p is not None else Path(project), f"import-affwild2 of {root}"):
            if p is None:
                p = Project.create(project, au_set=aus)
            formats = load_formats(p.folder)
            for i, video in enumerate(ds.videos):
                progress(i, len(ds.videos), video)
                labels = ds.labels[video]
                lines = {t: lf.n_lines for t, lf in labels.items()}
                stem = media_stem(video)
                entry = _video_entry(p, ds, video, infos.get(stem), (Path(media) if media else root) / f"{stem}.mp4",
                                     fps)
                if p.is_missing(video):
                    report.missing_media.append(video)
                n = entry.frame_count
                for t, k in lines.items():
                    if k != n:
                        what = "decoded frames" if not p.is_missing(video) else "frames (longest label file)"
                        report.mismatches.append(f"{video}: {t} file has {k} lines, the video {n} {what}")
                source = TrackSource.human(annotator) if annotator else TrackSource.fused(
                    source="Aff-Wild2", layout=ds.layout, root=str(root.resolve()))
                track = Track.empty(video, track_name, source, n, p.au_set)
                fmts = formats.setdefault(track_name, {}).setdefault(video, {})
                fmts.clear()
                for task, lf in labels.items():
                    fill_task(track, task, lf.values, lf.columns)
                    fmts[task] = _with_tail(lf.fmt, lf.values, n, task)
                    report.files += 1
                p.put_track(track)
                extra = dict(entry.extra)
                info_x = {"layout": ds.layout, "splits": dict(ds.splits[video]), "label_lines": lines,
                          "task_dirs": {t: lf.path.parent.parent.name for t, lf in labels.items()}}
                crops_rel = _note_crops(p, entry, crops_root / video, report, info_x)
                extra[AFFWILD2_EXTRA_KEY] = info_x
                p.update_video(dataclasses.replace(entry, crops=crops_rel, extra=extra))
                report.videos.append(video)
            progress(len(ds.videos), len(ds.videos), "")
            save_formats(p.folder, formats)  # first: a crash before save() still replays the journaled tracks
            p.save()
        return report
    finally:
        if p is not None:
            p.close()


def _drop_outside_au_set(ds: DatasetRead, aus: tuple[str, ...]) -> list[Problem]:
    """AU columns the project cannot hold make the file invalid: drop those files from ``ds``."""
    problems = []
    for v in list(ds.labels):
        lf = ds.labels[v].get("au")
        if lf is not None and not set(lf.columns) <= set(aus):
            problems.append(Problem(lf.path, 1, f"action units {', '.join(sorted(set(lf.columns) - set(aus)))}"
                                                f" are not in the project's AU set ({', '.join(aus)})"))
            ds.invalid.append(lf.path)
            del ds.labels[v]["au"]
            if not ds.labels[v]:
                del ds.labels[v]
    return problems


def _media_index(root: Path, media: Path | None) -> dict[str, Path]:
    """Media stem -> file over the media folders (the first folder that has a stem wins)."""
    found: dict[str, Path] = {}
    for d in _media_dirs(root, media):
        for k, v in index_media(d).items():
            found.setdefault(k, v)
    return found


def _video_entry(p: Project, ds: DatasetRead, video: str, info: MediaInfo | None, expected: Path,
                 fps: str | int) -> VideoEntry:
    """The project's entry for ``video``: the existing one, or a new one on its media file, or (no media)
    a missing one at ``expected`` as long as the longest label file of its media."""
    if video in p.videos:
        return p.videos[video]
    if info is not None:
        return p.add_video(info.path, name=video, split=_split(ds.splits[video]))
    stem = media_stem(video)
    longest = max(lf.n_lines for w in ds.labels if media_stem(w) == stem for lf in ds.labels[w].values())
    return p.add_video(expected, name=video, split=_split(ds.splits[video]), frame_count=longest, fps=fps)


def _note_crops(p: Project, entry: VideoEntry, crop_dir: Path, report: ImportReport, info: dict) -> str | None:
    """The video's cropped-aligned folder relative to the project (the entry's own when there is none),
    with the frames it lacks noted in ``info`` and ``report``."""
    video = entry.name
    if not crop_dir.is_dir():
        report.no_crops.append(video)
        return entry.crops
    missing = np.setdiff1d(np.arange(entry.frame_count), crop_frames(crop_dir))
    info["missing_crops"] = _ranges(missing)
    if missing.size:
        report.missing_crops[video] = int(missing.size)
    return relative_media(p.folder, crop_dir)


def _split(splits: dict[str, str]) -> str:
    for t in ("va", "expr", "au"):
        if t in splits:
            return splits[t]
    return "train"


def fill_task(track: Track, task: str, values: np.ndarray, columns: tuple[str, ...]) -> None:
    """Write a label file's (lines, columns) values (NaN unlabelled) into ``track`` (cut to its length)."""
    m = min(len(values), track.n_frames)
    v = values[:m]
    if task == "va":
        track.va[:m] = v.astype(np.float32)
    elif task == "expr":
        track.expr[:m] = np.where(np.isnan(v[:, 0]), EXPR_MISSING, v[:, 0]).astype(np.int8)
    else:
        for c, name in enumerate(columns):
            track.au[:m, track.au_names.index(name)] = np.where(np.isnan(v[:, c]), AU_MISSING, v[:, c]).astype(np.int8)


def _with_tail(fmt: FileFormat, values: np.ndarray, n: int, task: str) -> FileFormat:
    """Keep the text of lines past the video's last frame (a label file longer than its video)."""
    if len(values) <= n:
        return fmt
    raw = dict(fmt.raw)
    stored = values.astype(np.float32) if task == "va" else values
    for i in range(n, len(values)):
        if i not in raw:
            raw[i] = (render_row(stored[i], fmt), [None if np.isnan(x) else float(x) for x in stored[i]])
    return dataclasses.replace(fmt, raw=raw)
