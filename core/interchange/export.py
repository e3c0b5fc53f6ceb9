"""Project -> Aff-Wild2 label tree, in the spelling recorded at import where there is one."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np

from ..errors import LabelFileError
from ..labels import EXPR_MISSING
from ..progress import Progress, no_progress
from ..tracks import Track
from ..words import AFFWILD2_EXTRA_KEY
from .dataset import OutFile, write_dataset
from .labelfile import FileFormat, default_format, header_columns
from .layout import LAYOUTS, header_for
from .sidecar import load_formats
from .tracksel import pick_tracks

if TYPE_CHECKING:
    from ..project import Project



@dataclass
class ExportReport:
    out: Path
    layout: str
    files: list[Path] = field(default_factory=list)
    videos: int = 0
    skipped_videos: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"wrote {len(self.files)} label file(s) of {self.videos} video(s) ({self.layout} layout) to {self.out}"]
        if self.skipped_videos:
            out.append(f"{len(self.skipped_videos)} video(s) lack the track: " + ", ".join(self.skipped_videos[:10]))
        return out + self.notes


def task_values(track: Track, task: str, columns: tuple[str, ...] | None = None) -> np.ndarray:
    """(n, columns) float values of a task with NaN rows for unlabelled (a row partly labelled is unlabelled)."""
    if task == "va":
        v = track.va.copy()
        v[np.isnan(v).any(axis=1)] = np.nan
        return v
    if task == "expr":
        return np.where(track.expr == EXPR_MISSING, np.nan, track.expr.astype(np.float64))[:, None]
    cols = [track.au_names.index(a) for a in (columns or track.au_names)]
    a = track.au[:, cols].astype(np.float64)
    a[(a < 0).any(axis=1)] = np.nan
    return a


def _layout_of(project: Project, videos: Iterable[str]) -> str:
    seen = [project.videos[v].extra.get(AFFWILD2_EXTRA_KEY, {}).get("layout") for v in videos]
    seen = [s for s in seen if s in LAYOUTS]
    return max(set(seen), key=seen.count) if seen else "2022"


def export_affwild2(project: Project, out: str | Path, layout: str | None = None, track: str | None = None,
                    annotator: str | None = None, fused: bool = False,
                    progress: Progress = no_progress) -> ExportReport:
    """Write the chosen track of every video as Aff-Wild2 files; the layout defaults to the imported one."""
    tracks = pick_tracks(project, None, track, annotator, fused)
    layout = layout or _layout_of(project, tracks)
    if layout not in LAYOUTS:
        raise LabelFileError(f"unknown layout {layout!r}; expected 2020 or 2022", out)
    formats = load_formats(project.folder)
    report = ExportReport(Path(out), layout, skipped_videos=[v for v in project.videos if v not in tracks])
    files: list[OutFile] = []
    others_dropped = 0
    for video, t in tracks.items():
        entry = project.videos[video]
        meta = entry.extra.get(AFFWILD2_EXTRA_KEY, {})
        recorded = formats.get(t.name, {}).get(video, {})
        for task in ("va", "expr", "au"):
            fmt: FileFormat | None = recorded.get(task)
            if fmt is None:
                if not t.labelled(task).any():
                    continue
                fmt = default_format(task, header_for(task, layout, t.au_names))
            cols = header_columns(task, fmt.header)
            if isinstance(cols, str):  # cannot happen for a recorded header; keep the message if it does
                raise LabelFileError(cols, out)
            if task == "au" and not set(cols) <= set(t.au_names):
                fmt = default_format(task, header_for(task, layout, t.au_names))
                cols = t.au_names
            values = task_values(t, task, cols if task == "au" else None)
            if task == "expr":
                k = 7 if layout == "2020" else 8
                if len(cols) != k:
                    fmt = dataclasses.replace(fmt, header=header_for("expr", layout, ()) + ("\r" if fmt.crlf else ""))
                drop = values[:, 0] >= k
                others_dropped += int(drop.sum())
                values[drop] = np.nan
            split = meta.get("splits", {}).get(task, entry.split)
            files.append(OutFile(task, split, video, values, fmt, meta.get("task_dirs", {}).get(task)))
    if others_dropped:
        report.notes.append(f"{others_dropped} frame(s) labelled Other written as -1: the 2020 layout has no Other")
    report.files = write_dataset(out, layout, files, progress)
    report.videos = len({f.video for f in files})
    return report
