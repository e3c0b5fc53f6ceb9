"""Reading a whole Aff-Wild2 label tree (either layout) and writing one, without a project."""
from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AffectTraceError, LabelFileError
from ..fsio import os_problem
from ..progress import Progress, no_progress
from ..safepaths import within
from .labelfile import FileFormat, LabelFile, Problem, parse_label_file, render_file
from .layout import TASK_DIRS, DatasetFile, annotations_base, list_files, split_dir, task_dir


@dataclass
class DatasetRead:
    """Parsed label files by video and task, with every problem found. ``invalid`` files are left out."""

    root: Path
    layout: str
    labels: dict[str, dict[str, LabelFile]] = field(default_factory=dict)
    splits: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    invalid: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def videos(self) -> list[str]:
        return sorted(self.labels)

    def au_names(self) -> tuple[str, ...]:
        """AUs of the AU files in order of first appearance (one list when all files agree)."""
        out: list[str] = []
        for v in self.videos:
            lf = self.labels[v].get("au")
            for a in lf.columns if lf else ():
                if a not in out:
                    out.append(a)
        return tuple(out)


def read_dataset(root: str | Path, progress: Progress = no_progress) -> DatasetRead:
    """Parse and validate every label file under ``root``; nothing is raised for bad files."""
    root = Path(root)
    layout, files, notes = list_files(root)
    out = DatasetRead(root, layout, notes=notes)
    seen: dict[tuple[str, str], DatasetFile] = {}
    for i, f in enumerate(files):
        progress(i, len(files), f.video)
        prev = seen.get((f.task, f.video))
        if prev is not None:
            out.problems.append(Problem(f.path, None, f"video {f.video!r} has a {f.task} file in two splits "
                                                     f"(also {prev.path})"))
            out.invalid.append(f.path)
            continue
        seen[(f.task, f.video)] = f
        lf, problems = parse_label_file(f.path, f.task)
        if lf is None:
            out.problems += problems
            out.invalid.append(f.path)
            continue
        out.labels.setdefault(f.video, {})[f.task] = lf
        out.splits.setdefault(f.video, {})[f.task] = f.split
    progress(len(files), len(files), "")
    return out


@dataclass
class OutFile:
    """One file to write: task, split, video, (n, columns) values with NaN unlabelled, its spelling."""

    task: str
    split: str
    video: str
    values: np.ndarray
    fmt: FileFormat
    task_dir: str | None = None  # a folder name seen on import (e.g. EXPR_Recognition_Challenge)


def out_path(out: Path, layout: str, f: OutFile) -> Path:
    folder = f.task_dir if f.task_dir in TASK_DIRS[layout][f.task] else task_dir(layout, f.task)
    return annotations_base(layout, out) / folder / split_dir(layout, f.split) / f"{f.video}.txt"


def write_dataset(out: str | Path, layout: str, files: list[OutFile], progress: Progress = no_progress) -> list[Path]:
    """Write label files in ``layout`` under ``out``. Every text is made before the first is written."""
    out = Path(out)
    texts = [(within(out, out_path(out, layout, f), "label file", LabelFileError), render_file(f.values, f.fmt))
             for f in files]
    dupes = [p for p, c in Counter(p for p, _ in texts).items() if c > 1]
    if dupes:
        raise LabelFileError(f"two label files for one path: {sorted(map(str, dupes))[0]}", out)
    # all or nothing: the files are written into a staging folder, then moved into place
    fresh = not out.exists()
    stage = out.parent / f".{out.name}.partial-{os.getpid()}" if fresh else out / f".partial-{os.getpid()}"
    try:
        for i, (path, text) in enumerate(texts):
            progress(i, len(texts), path.name)
            staged = stage / path.relative_to(out)
            try:
                staged.parent.mkdir(parents=True, exist_ok=True)
                with open(staged, "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
            except OSError as e:
                raise AffectTraceError(f"cannot write: {os_problem(e)}; nothing was written", path) from e
        try:
            if fresh:
                os.rename(stage, out)
            else:
                for path, _ in texts:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(stage / path.relative_to(out), path)
        except OSError as e:
            raise AffectTraceError(f"cannot move the label files into place: {os_problem(e)}", out) from e
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    progress(len(texts), len(texts), "")
    return [path for path, _ in texts]
