"""One tidy CSV table of a project's labels (pandas): a row per video x frame x track.

Columns: video, frame, time_s, track, valence, arousal, expression (class index 0-7; class names
are read too), then one column per AU of the project's set. Empty cells are unlabelled. Tables with
model tracks add their confidence columns (core.interchange.confcols: p_<class>, p_<AU>, *_std); tool
tracks add their tool data as ``tool_<name>`` (OpenFace pose, gaze, AU_r...; core.interchange.tooldata),
which import-csv leaves out (the tool track keeps it).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import AffectTraceError, LabelFileError
from ..fsio import atomic_write_with, scan_table
from ..labels import AU_MISSING, EXPR_MISSING, EXPRESSIONS, VA_RANGE, au_number
from ..progress import Progress, no_progress
from ..project.incomplete import marked_incomplete
from ..project.manifest import MAX_FRAMES
from ..safepaths import excerpt, name_problem
from ..tracks import Track, TrackSource
from .confcols import apply_confidence, confidence_columns, is_confidence_column, read_confidence, track_confidence
from .tooldata import TOOL_COLUMN_PREFIX, export_columns

if TYPE_CHECKING:
    from ..project import Project

BASE_COLUMNS = ("video", "frame", "time_s", "track", "valence", "arousal", "expression")


def track_frame(track: Track, fps: Fraction) -> pd.DataFrame:
    n = track.n_frames
    d: dict[str, object] = {
        "video": np.full(n, track.video, dtype=object), "frame": np.arange(n),
        "time_s": np.round(np.arange(n) / float(fps), 6), "track": np.full(n, track.name, dtype=object),
        "valence": track.va[:, 0], "arousal": track.va[:, 1],
        "expression": pd.array(np.where(track.expr == EXPR_MISSING, pd.NA, track.expr), dtype="Int8"),
    }
    for j, a in enumerate(track.au_names):
        d[a] = pd.array(np.where(track.au[:, j] == AU_MISSING, pd.NA, track.au[:, j]), dtype="Int8")
    d.update(track_confidence(track))
    return pd.DataFrame(d)


def export_csv(project: Project, out: str | Path, tracks: list[str] | None = None,
               progress: Progress = no_progress) -> int:
    """Write every track (or those named) of every video to ``out``; returns the number of rows."""
    frames = []
    videos = list(project.videos)
    for i, v in enumerate(videos):
        progress(i, len(videos), v)
        fps = Fraction(project.videos[v].fps)
        for name in project.track_names(v):
            if tracks is None or name in tracks:
                t = project.track(v, name)
                frames.append(track_frame(t, fps).assign(**export_columns(project, t)))
    progress(len(videos), len(videos), "")
    cols = list(BASE_COLUMNS) + list(project.au_set.aus)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    cols += [c for c in confidence_columns(project.au_set.aus) if c in table.columns]
    cols += [c for c in table.columns if c.startswith(TOOL_COLUMN_PREFIX)]
    atomic_write_with(Path(out), lambda tmp: _write_table(table, tmp, cols), error=AffectTraceError)
    return len(table)


def _write_table(table: pd.DataFrame, tmp: Path, columns: list[str]) -> None:
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        table.to_csv(f, index=False, columns=columns)
        f.flush()
        os.fsync(f.fileno())


@dataclass
class CsvImport:
    tracks: list[tuple[str, str]] = field(default_factory=list)  # (video, track) written
    rows: int = 0
    notes: list[str] = field(default_factory=list)


def _fail(path: Path, problems: list[str]) -> None:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise LabelFileError(problems[0] + more, path)


def _expr_codes(col: pd.Series, path: Path, problems: list[str]) -> np.ndarray:
    names = {n.lower(): i for i, n in enumerate(EXPRESSIONS)}
    out = np.full(len(col), EXPR_MISSING, np.int8)
    for i, v in enumerate(col.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v == "":
            continue
        s = str(v).strip()
        if s.lower() in names:
            out[i] = names[s.lower()]
            continue
        try:
            f = float(s)
        except ValueError:
            f = None
        if f is None or f != int(f) or not -1 <= f < len(EXPRESSIONS):
            problems.append(f"line {i + 2}: expression {excerpt(s)} is not a class (0-7 or a name)")
        else:
            out[i] = int(f)
    return out


def read_csv_table(path: str | Path, au_names: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate the table; every problem names its line. Returns (table, AU columns present)."""
    path = Path(path)
    scan_table(path, LabelFileError)  # a FIFO, a 1 GB line or 10^6 columns: refused before pandas reads
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise LabelFileError(f"not a readable CSV table: {(str(e).splitlines() or [''])[0][:200]}", path) from e
    missing = [c for c in ("video", "frame", "track") if c not in df.columns]
    if missing:
        _fail(path, [f"missing column(s) {', '.join(missing)} (expected {', '.join(BASE_COLUMNS)}, AU...)"])
    problems: list[str] = []
    aus, conf = _label_columns(df, au_names, problems)
    out = _row_keys(df, problems)
    if "valence" in df.columns or "arousal" in df.columns:
        out["valence"], out["arousal"] = _va_columns(df, problems)
    if "expression" in df.columns:
        out["expression"] = _expr_codes(df["expression"], path, problems)
    for c in aus:
        out[f"AU{au_number(c)}"] = _au_column(df, c, problems)
    out = out.join(read_confidence(df, conf, problems))
    dup = out.duplicated(["video", "track", "frame"], keep="first")
    for i in np.flatnonzero(dup):
        problems.append(f"line {i + 2}: a second row for video {out['video'].iat[i]!r}, track "
                        f"{out['track'].iat[i]!r}, frame {out['frame'].iat[i]}")
    if problems:
        _fail(path, problems)
    return out, [f"AU{au_number(c)}" for c in aus]


def _label_columns(df: pd.DataFrame, au_names: tuple[str, ...], problems: list[str]) -> tuple[list[str], list[str]]:
    """The AU columns and the model-confidence columns of the header; other unknown names are problems."""
    aus, conf = [], []
    for c in df.columns:
        if c in BASE_COLUMNS or c.startswith(TOOL_COLUMN_PREFIX):  # tool data: read-only, kept by its tool track
            continue
        if is_confidence_column(c, au_names):
            conf.append(c)
            continue
        try:
            a = f"AU{au_number(c)}"
        except ValueError:
            problems.append(f"line 1: unknown column {excerpt(c)}")
            continue
        if a not in au_names:
            problems.append(f"line 1: {c} is not in the project's AU set ({', '.join(au_names)})")
        aus.append(c)
    return aus, conf


def _row_keys(df: pd.DataFrame, problems: list[str]) -> pd.DataFrame:
    """video, track and frame of every row, checked: no empty names, a frame index, a valid track name."""
    out = pd.DataFrame({"video": df["video"].str.strip(), "track": df["track"].str.strip()})
    frame = pd.to_numeric(df["frame"], errors="coerce")
    for i in np.flatnonzero(frame.isna() | (frame < 0) | (frame >= MAX_FRAMES) | (frame != frame.round())):
        problems.append(f"line {i + 2}: frame {excerpt(df['frame'].iat[i])} is not a frame index")
    out["frame"] = frame.fillna(-1).astype(np.int64)
    for c in ("video", "track"):
        for i in np.flatnonzero(out[c] == ""):
            problems.append(f"line {i + 2}: empty {c}")
    for row, name in enumerate(out["track"]):
        bad = name_problem(name) if name else None
        if bad:
            problems.append(f"line {row + 2}: track name {bad}")
            break
    return out


def _va_columns(df: pd.DataFrame, problems: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Valence and arousal (float32, NaN where empty): numbers in range, both given or both empty."""
    vals = []
    for c in ("valence", "arousal"):
        raw = df[c] if c in df.columns else pd.Series([""] * len(df))
        v = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
        for i in np.flatnonzero(v.isna() & (raw.str.strip() != "")):
            problems.append(f"line {i + 2}: {c} {excerpt(raw.iat[i])} is not a number")
        for i in np.flatnonzero((v < VA_RANGE[0]) | (v > VA_RANGE[1])):
            problems.append(f"line {i + 2}: {c} {v.iat[i]:g} out of range [-1, 1]")
        vals.append(v.to_numpy(np.float64))
    for i in np.flatnonzero(np.isnan(vals[0]) != np.isnan(vals[1])):
        problems.append(f"line {i + 2}: valence and arousal must both be given or both be empty")
    return vals[0].astype(np.float32), vals[1].astype(np.float32)


def _au_column(df: pd.DataFrame, c: str, problems: list[str]) -> np.ndarray:
    """One AU column as int8 (AU_MISSING where empty); anything but 0, 1 or -1 is a problem."""
    v = pd.to_numeric(df[c].replace("", np.nan), errors="coerce")
    bad = (v.isna() & (df[c].str.strip() != "")) | ~(v.isna() | v.isin([0, 1, AU_MISSING]))
    for i in np.flatnonzero(bad):
        problems.append(f"line {i + 2}: {c} {excerpt(df[c].iat[i])} is not 0 or 1")
    return v.fillna(AU_MISSING).to_numpy().astype(np.int8)


def import_csv(project: Project, path: str | Path, progress: Progress = no_progress,
               replace: bool = False) -> CsvImport:
    """Validate the whole table, then write one track per (video, track) in it (nothing on error).

    Existing tracks keep the frames and tasks the table does not give, and an empty (or -1) cell never
    erases a label: it means "no value here". With ``replace`` each row's cells replace its frame's
    values of the columns the table has, empty ones included. New tracks are human tracks of an
    annotator named like the track.
    """
    path = Path(path)
    table, aus = read_csv_table(path, project.au_set.aus)
    problems = []
    for v in sorted(set(table["video"]) - set(project.videos)):
        line = int(np.argmax(table["video"].to_numpy() == v)) + 2
        problems.append(f"line {line}: no video {excerpt(v)} in the project")
    if problems:
        _fail(path, problems)
    n_of = table["video"].map(lambda v: project.videos[v].frame_count)
    for i in np.flatnonzero(table["frame"].to_numpy() >= n_of.to_numpy()):
        problems.append(f"line {i + 2}: frame {table['frame'].iat[i]} is past the end of video "
                        f"{table['video'].iat[i]!r} ({n_of.iat[i]} frames)")
    if problems:
        _fail(path, problems)
    result = CsvImport(rows=len(table))
    groups = list(table.groupby(["video", "track"], sort=True))
    built = []
    for k, ((video, name), g) in enumerate(groups):
        progress(k, len(groups), f"{video}/{name}")
        tool = project.track_source(video, name).tool if project.has_track(video, name) else None
        if tool is not None:
            raise LabelFileError(f"track {name!r} of video {video!r} is a read-only {tool} track: import its rows "
                                 "under another track name", path)
        if project.has_track(video, name):
            t = project.track(video, name).copy()
        else:
            t = Track.empty(video, name, TrackSource.human(name), project.videos[video].frame_count, project.au_set)
        f = g["frame"].to_numpy()
        if "valence" in g:  # valence and arousal are both given or both empty (validated)
            va = np.stack([g["valence"].to_numpy(), g["arousal"].to_numpy()], axis=1)
            given = replace | ~np.isnan(va[:, 0])
            t.va[f[given]] = va[given]
        if "expression" in g:
            e = g["expression"].to_numpy()
            given = replace | (e != EXPR_MISSING)
            t.expr[f[given]] = e[given]
        for a in aus:
            v = g[a].to_numpy()
            given = replace | (v != AU_MISSING)
            t.au[f[given], t.au_names.index(a)] = v[given]
        apply_confidence(t, f, g, [c for c in g.columns if is_confidence_column(c, t.au_names)], replace)
        built.append(t)
    with marked_incomplete(project.folder, f"import-csv of {path}"):
        for t in built:
            project.put_track(t)
            result.tracks.append((t.video, t.name))
        project.save()
    progress(len(groups), len(groups), "")
    return result
