"""NOVA annotation pairs <-> project tracks.

Import: each file's scheme names its task: ``--scheme NAME=TASK`` or a scheme named like a task
(expression, AU12, valence, arousal). DISCRETE and FREE segments become expression or AU labels by the
segment rule (a frame belongs to [from, to) by its display time) and the value map
(core.interchange.valuemap); CONTINUOUS samples become valence or arousal, rescaled linearly from the
scheme's [min, max] to [-1, 1], and sampled at each frame's display time by sample-and-hold
(frame f takes sample floor(f * sr / fps); frames past the last sample stay unlabelled).
Confidence becomes the track's confidence, as a model's: a discrete segment's confidence c is the
probability of its class (``p_<class>``; other classes unknown) or of its AU state (p_AU = c for
present, 1 - c for absent); a continuous sample's confidence c becomes the VA spread
``std = (1 - c) * VA_STD_SCALE``, which core.modeltracks reads back as confidence c.
The track is ``--track`` or the header's annotator (else the file name).

Export: per track ``<video>.<scheme>.<track>.annotation`` (+ ``~``): ``expression`` (DISCRETE, the 8
classes), one DISCRETE scheme per AU (absent, present, A-E), ``valence`` and ``arousal`` (CONTINUOUS at the
video's frame rate, min -1, max 1); ASCII or BINARY. Confidence is written back by the same rules
(1.0 where a track has none).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import AffectTraceError, LabelFileError, ProjectError
from ..fsio import atomic_write_bytes
from ..labels import AU_MISSING, EXPR_MISSING, EXPRESSIONS
from ..modeltracks import VA_STD_SCALE
from ..safepaths import require_file
from ..tracks import Track
from .elan import NothingToExport, check_export_files, export_tracks
from .framerule import regular_samples, seconds_text
from .gather import Gathered
from .nova import NovaAnnotation, NovaScheme, continuous_bytes, data_path, discrete_bytes, header_bytes, read_nova
from .valuemap import (
    AU_STATES,
    FACS,
    VA_DIMS,
    ValueMap,
    au_state_codes,
    name_pairs,
    raise_problems,
    task_of,
    unmapped_problem,
)

if TYPE_CHECKING:
    from ..project import Project


@dataclass
class NovaImport:
    tracks: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # file -> "track task"
    notes: list[str] = field(default_factory=list)

    def lines(self, video: str) -> list[str]:
        done = ", ".join(f"{f} -> {k}" for f, k in self.files.items())
        return [f"imported {len(self.files)} NOVA annotation(s) into {len(self.tracks)} track(s) of {video}: {done}"] \
            + self.notes


def _task(ann: NovaAnnotation, schemes: dict[str, str]) -> str:
    spec = schemes.get(ann.scheme.name)
    try:
        task = task_of(spec if spec is not None else ann.scheme.name)
    except ValueError:
        raise LabelFileError(f"scheme {ann.scheme.name!r} ({ann.scheme.type}): which task does it hold? name it with "
                             f"--scheme {ann.scheme.name or 'NAME'}=expr|AU12|valence|arousal", ann.path) from None
    if (task in VA_DIMS) != (ann.scheme.type == "CONTINUOUS"):
        raise LabelFileError(f"a {ann.scheme.type} scheme cannot hold {task} (valence and arousal are CONTINUOUS, "
                             "expressions and AUs DISCRETE or FREE)", ann.path)
    return task


def import_nova(project: Project, paths: list[str | Path], video: str, maps: list[str] | None = None,
                schemes: list[str] | None = None, track: str | None = None,
                skip_unmapped: bool = False) -> NovaImport:
    """Read and validate every file first, then write all their labels in one step (nothing on error)."""
    entry = project.videos.get(video)
    if entry is None:
        raise ProjectError(f"no video {video!r} in the project", project.folder)
    fps, n = entry.fps_fraction, entry.frame_count
    values = ValueMap.parse(maps)
    scheme_tasks = name_pairs(schemes, "--scheme")
    anns = [read_nova(require_file(p, LabelFileError)) for p in paths]
    g = Gathered(project, video, Path(paths[0]))
    report = NovaImport()
    unmapped: Counter[tuple[str, str]] = Counter()
    garbage = 0
    for ann in anns:
        task = _task(ann, scheme_tasks)
        if task not in (*VA_DIMS, "expr", FACS) and task not in project.au_set.aus:
            raise LabelFileError(f"{task} is not in the project's AU set ({', '.join(project.au_set.aus)})", ann.path)
        name = track or ann.annotator or ann.path.name.split(".")[0]
        if task in VA_DIMS:
            _continuous(ann, task, name, g, fps, n, report)
        else:
            for s in ann.segments:
                if s.garbage:
                    garbage += 1
                    continue
                a, b = g.span(s.start, s.end)
                conf = None if np.isnan(s.conf) else s.conf
                if not g.label(name, task, s.label, values, a, b, f"{ann.path.name} line {s.line}", conf):
                    unmapped[(ann.path.name, s.label.strip())] += 1
        report.files[ann.path.name] = f"{name} {task}"
    if unmapped and not skip_unmapped:
        g.conflicts.insert(0, unmapped_problem(unmapped, "segment"))
    raise_problems(g.conflicts, anns[0].path)
    if unmapped:
        report.notes.append(f"left unlabelled: {sum(unmapped.values())} segment(s) with unmapped values "
                            + ", ".join(repr(v) for (_, v) in list(unmapped)[:8]))
    report.notes += g.notes("segment")
    if garbage:
        report.notes.append(f"{garbage} segment(s) of NOVA's rest class (id -1) left unlabelled")
    report.tracks = g.commit(f"import-nova of {', '.join(str(p) for p in paths)}")
    return report


def _continuous(ann: NovaAnnotation, task: str, name: str, g: Gathered, fps: Fraction, n: int,
                report: NovaImport) -> None:
    s, samples = ann.scheme, ann.samples if ann.samples is not None else np.zeros((0, 2))
    idx = regular_samples(len(samples), s.sr, fps, n)
    held = np.where(idx[:, None] >= 0, samples[np.maximum(idx, 0)] if len(samples) else np.nan, np.nan)
    scores = -1.0 + 2.0 * (held[:, 0] - s.min) / (s.max - s.min)
    std = (1.0 - held[:, 1]) * VA_STD_SCALE
    g.va(name, VA_DIMS.index(task), np.clip(scores, -1, 1).astype(np.float32), std.astype(np.float32))
    if abs(s.sr / fps - 1) > 1e-6:  # not just the rounding of a rate like 30000/1001 written as decimals
        report.notes.append(f"{ann.path.name}: {float(s.sr):g} Hz resampled to the video's {float(fps):g} fps by "
                            "sample-and-hold at each frame's display time")
    if (s.min, s.max) != (-1.0, 1.0):
        report.notes.append(f"{ann.path.name}: scores rescaled from [{s.min:g}, {s.max:g}] to [-1, 1]")
    if len(samples) and (idx < 0).any():
        report.notes.append(f"{ann.path.name}: {int((idx < 0).sum())} frame(s) after the last sample left unlabelled")


# ------------------------------------------------------------------ export

def _segments(codes: np.ndarray, conf: np.ndarray, missing: int) -> list[tuple[int, int, int, float]]:
    """(start, stop, code, confidence) of each run of equal code and confidence, skipping ``missing``."""
    c = np.where(np.isfinite(conf), conf, 1.0)
    change = np.flatnonzero((np.diff(codes) != 0) | (np.diff(c) != 0)) + 1
    starts = np.concatenate([[0], change]).astype(int)
    stops = np.concatenate([change, [len(codes)]]).astype(int)
    return [(a, b, int(codes[a]), float(c[a])) for a, b in zip(starts, stops) if codes[a] != missing]


Body = list[tuple[int, int, int, float]] | tuple[np.ndarray, np.ndarray]


def _track_files(t: Track, fps: Fraction) -> list[tuple[NovaScheme, Body]]:
    """(scheme, segments or (scores, confidences)) for every labelled task of a track."""
    out: list[tuple[NovaScheme, Body]] = []
    n = t.n_frames
    if (t.expr != EXPR_MISSING).any():
        rows = np.arange(n)
        conf = (t.expr_prob[rows, np.maximum(t.expr, 0)] if t.expr_prob is not None else np.full(n, np.nan))
        segs = _segments(t.expr.astype(np.int16), conf, EXPR_MISSING)
        out.append((NovaScheme("expression", "DISCRETE", dict(enumerate(EXPRESSIONS))), segs))
    for j, au in enumerate(t.au_names):
        if not (t.au[:, j] != AU_MISSING).any():
            continue
        codes = au_state_codes(t.au[:, j], None if t.au_intensity is None else t.au_intensity[:, j])
        p = t.au_prob[:, j] if t.au_prob is not None else np.full(n, np.nan)
        conf = np.where(t.au[:, j] == 1, p, 1.0 - p)
        out.append((NovaScheme(au, "DISCRETE", dict(enumerate(AU_STATES))), _segments(codes, conf, -1)))
    if (~np.isnan(t.va)).any():
        for d, dim in enumerate(VA_DIMS):
            std = t.va_std[:, d] if t.va_std is not None else np.zeros(n)
            conf = np.where(np.isfinite(std), np.clip(1.0 - std / VA_STD_SCALE, 0.0, 1.0), 1.0)
            conf = np.where(np.isnan(t.va[:, d]), 0.0, conf)
            out.append((NovaScheme(dim, "CONTINUOUS", sr=fps, min=-1.0, max=1.0), (t.va[:, d], conf)))
    return out


def export_nova(project: Project, video: str, out_dir: str | Path, names: list[str] | None = None,
                binary: bool = False, overwrite: bool = False) -> list[Path]:
    """Write one annotation pair per track and task; returns the header paths."""
    out_dir = Path(out_dir)
    entry = project.videos.get(video)
    if entry is None:
        raise ProjectError(f"no video {video!r} in the project", project.folder)
    fps = entry.fps_fraction
    ftype = "BINARY" if binary else "ASCII"
    planned: list[tuple[Path, bytes, bytes]] = []
    for t in export_tracks(project, video, names):
        for scheme, body in _track_files(t, fps):
            path = out_dir / f"{video}.{scheme.name}.{t.name}.annotation"
            if isinstance(body, tuple):
                size, data = len(body[0]), continuous_bytes(body[0], body[1], ftype)
            else:
                rows = [(seconds_text(a, fps), seconds_text(b, fps), code, c) for a, b, code, c in body]
                size, data = len(rows), discrete_bytes(rows, ftype)
            planned.append((path, header_bytes(scheme, ftype, size, t.name, video), data))
    if not planned:
        raise NothingToExport(f"nothing to export: video {video!r} has no labels in the chosen tracks", project.folder)
    check_export_files(project, video, [p for path, _, _ in planned for p in (path, data_path(path))], overwrite,
                       "NOVA")
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, header, data in planned:
        atomic_write_bytes(data_path(path), data, AffectTraceError)
        atomic_write_bytes(path, header, AffectTraceError)
    return [p[0] for p in planned]
