"""Reading the per-frame CSV tables of other face-analysis tools (OpenFace 2.0, py-feat) into one shape.

Both tools write one row per face per frame. A file becomes a ``ToolFrames``: one row per video frame
(0-based, increasing) for the face kept by the multi-face rule, with its landmarks, box, score, AU
values, expression probabilities and the other numeric columns kept. Every problem names its line;
nothing is returned from a file with any problem.

Multi-face rule (both tools): with ``face_id`` given, the rows of that face (OpenFace ``face_id``,
py-feat ``Identity``, else the row's position among its frame's rows, 0 first); otherwise, per frame,
the row with the highest score (OpenFace ``confidence``, py-feat ``FaceScore``), the first such row on
a tie. Two rows of one frame for the same face (same id, or py-feat rows with the same face box) are
duplicate frames: an error.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from ..errors import LabelFileError
from ..fsio import MAX_LINE_BYTES, open_regular, scan_table
from ..safepaths import excerpt, require_file

LANDMARKS = 68


@dataclass
class ToolFrames:
    """A tool's file reduced to one face per frame, before it meets a video."""

    tool: str  # 'openface' | 'py-feat'
    path: Path
    sha256: str
    frames: np.ndarray  # (m,) int64 0-based video frames with a kept row, increasing
    last_frame: int  # the highest 0-based frame of any row (-1 for an empty file)
    rows: int  # data rows in the file
    face: np.ndarray  # (m,) bool: the tool found (and fitted) a face there
    scores: np.ndarray  # (m,) float32 the tool's confidence in that face
    landmarks: np.ndarray | None  # (m, 68, 2) float32 frame pixels
    boxes: np.ndarray | None  # (m, 4) float32 xyxy, None: from the landmarks
    au_presence: dict[str, np.ndarray] = field(default_factory=dict)  # 'AU12' -> (m,) 0/1 int8
    au_intensity: dict[str, np.ndarray] = field(default_factory=dict)  # 'AU12' -> (m,) float32 0-5
    au_prob: dict[str, np.ndarray] = field(default_factory=dict)  # 'AU12' -> (m,) float32 0-1
    expr_prob: dict[str, np.ndarray] = field(default_factory=dict)  # 'Happiness' -> (m,) float32
    kept: dict[str, np.ndarray] = field(default_factory=dict)  # other numeric columns, (m,) float32
    dropped: list[str] = field(default_factory=list)  # columns read but not kept
    multi_face_frames: int = 0
    face_rule: str = ""


def fail(path: Path, problems: list[str]) -> None:
    """Raise the one-line error for a file's problems (the first, and how many more)."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise LabelFileError(problems[0] + more, path)


def read_table(path: str | Path, what: str) -> pd.DataFrame:
    """The table of a tool's CSV: header names stripped (OpenFace writes ', '), CRLF or LF, every cell
    a number or empty (NaN) except ``text_columns``. Raises LabelFileError naming the file."""
    path = require_file(Path(path), LabelFileError)
    scan_table(path, LabelFileError)  # no line over 1 MiB, no header over 10,000 columns: before pandas reads it
    fd = open_regular(path, os.O_RDONLY, error=LabelFileError, verb="cannot read", follow=True)
    try:
        with os.fdopen(fd, "rb") as f:  # by descriptor: a FIFO swapped in after the scan is refused too
            df = pd.read_csv(f, skipinitialspace=True, low_memory=False, encoding="utf-8")
            short = _last_row_cells(f, len(df.columns))
    except pd.errors.EmptyDataError:
        raise LabelFileError(f"empty file, not a {what} CSV", path) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise LabelFileError(f"not a readable {what} CSV: {(str(e).splitlines() or [''])[0][:200]}", path) from None
    if df.empty:
        raise LabelFileError(f"no data rows under the header: not a {what} output", path)
    if short is not None:  # pandas fills a short row with NaN: a file cut mid-row would pass as missing values
        raise LabelFileError(f"line {len(df) + 1}: {short} of the header's {len(df.columns)} cells: the file ends "
                             "mid-row (cut short?)", path)
    df.columns = [str(c).strip() for c in df.columns]
    dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dup:
        raise LabelFileError(f"line 1: column {excerpt(dup[0])} appears twice", path)
    return df


def _last_row_cells(f: BinaryIO, width: int) -> int | None:
    """The number of cells of the file's last line when it has fewer than ``width`` (lines are at most
    MAX_LINE_BYTES long: scan_table)."""
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - MAX_LINE_BYTES - 2))
    last = f.read().rstrip(b"\r\n").rsplit(b"\n", 1)[-1].decode("utf-8", "replace")
    n = len(next(csv.reader([last], skipinitialspace=True), []))
    return n if n < width else None


def numeric(df: pd.DataFrame, columns: list[str], path: Path, problems: list[str]) -> dict[str, np.ndarray]:
    """Float64 arrays of the columns; a cell that is not a number is a problem naming its line."""
    out = {}
    for c in columns:
        col = df[c]
        if col.dtype.kind in "fiub":
            out[c] = col.to_numpy(np.float64)
            continue
        v = pd.to_numeric(col.astype(str).str.strip().replace({"": np.nan, "nan": np.nan}), errors="coerce")
        bad = np.flatnonzero((v.isna() & col.notna() & (col.astype(str).str.strip() != "")).to_numpy())
        if bad.size:
            i = int(bad[0])
            problems.append(f"line {i + 2}: {c} {excerpt(col.iat[i])} is not a number"
                            + (f" (and {bad.size - 1} more such cells)" if bad.size > 1 else ""))
        out[c] = v.to_numpy(np.float64)
    return out


def check_range(name: str, v: np.ndarray, lo: float, hi: float, problems: list[str], what: str = "") -> None:
    """A problem for the first value outside [lo, hi] (NaN is left to the caller)."""
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero((v < lo) | (v > hi))
    if bad.size:
        i = int(bad[0])
        problems.append(f"line {i + 2}: {name} {v[i]:g} is not {what or f'in [{lo:g}, {hi:g}]'}"
                        + (f" (and {bad.size - 1} more such cells)" if bad.size > 1 else ""))


def frame_column(raw: np.ndarray, first: int, problems: list[str]) -> np.ndarray:
    """0-based frame indices from a tool's frame column numbered from ``first``."""
    ok = np.isfinite(raw) & (raw >= first) & (raw == np.round(raw))
    bad = np.flatnonzero(~ok)
    if bad.size:
        i = int(bad[0])
        problems.append(f"line {i + 2}: frame {raw[i]:g} is not a frame number (they start at {first})")
    return np.where(ok, raw, first).astype(np.int64) - first


def pick_faces(frames: np.ndarray, scores: np.ndarray, ids: np.ndarray | None, face_id: str | None,
               path: Path, problems: list[str], id_name: str) -> tuple[np.ndarray, int, str]:
    """Row indices kept by the multi-face rule (module doc), in increasing frame order; the number of
    frames with several faces; and the rule in words. ``ids``: each row's face id as text, or None."""
    n = len(frames)
    if ids is None:  # position of each row among its frame's rows
        order = np.argsort(frames, kind="stable")
        sf = frames[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sf)) + 1]
        pos = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        ids_used = np.empty(n, object)
        ids_used[order] = pos.astype(str)
        ids_text = "position among the frame's rows"
    else:
        ids_used, ids_text = ids, id_name
    counts = np.bincount(frames, minlength=int(frames.max()) + 1 if n else 0) if n else np.zeros(0, np.int64)
    multi = int((counts > 1).sum())
    if face_id is not None:
        rows = np.flatnonzero(ids_used == str(face_id))
        if not rows.size:
            seen = sorted(set(ids_used.tolist()))
            problems.append(f"no face {excerpt(face_id)} ({ids_text}); the file has {', '.join(seen[:10])}")
            return rows, multi, ""
        rows = rows[np.argsort(frames[rows], kind="stable")]
        return rows, multi, f"face {face_id} ({ids_text})"
    key = np.where(np.isfinite(scores), scores, -np.inf)
    order = np.lexsort((np.arange(n), -key, frames))  # by frame, best score first, then file order
    first = np.r_[True, frames[order][1:] != frames[order][:-1]] if n else np.zeros(0, bool)
    rule = f"the face with the highest {'confidence' if id_name == 'face_id' else 'FaceScore'} in each frame"
    return order[first], multi, rule


def duplicate_rows(file_frames: np.ndarray, face: np.ndarray | None, face_name: str, problems: list[str]) -> None:
    """A problem for the first row repeating an earlier row's frame (and face, where given)."""
    df = pd.DataFrame({"frame": file_frames} if face is None else {"frame": file_frames, "face": face})
    dup = np.flatnonzero(df.duplicated(keep="first").to_numpy())
    if dup.size:
        i = int(dup[0])
        who = "" if face is None else f", {face_name} {excerpt(face[i])}"
        problems.append(f"line {i + 2}: a second row for frame {file_frames[i]:g}{who} (duplicate frame)"
                        + (f"; {dup.size - 1} more duplicate rows" if dup.size > 1 else ""))


def landmark_columns(df: pd.DataFrame) -> tuple[list[str], list[str]] | None:
    """The 2-D landmark columns x_0..x_67, y_0..y_67 when the table has them all."""
    xs = [f"x_{i}" for i in range(LANDMARKS)]
    ys = [f"y_{i}" for i in range(LANDMARKS)]
    return (xs, ys) if all(c in df.columns for c in xs + ys) else None


def column_groups(columns: list[str]) -> list[str]:
    """Column names with numbered runs folded ('X_0' .. 'X_67' -> 'X_*'), each once, in file order."""
    out: list[str] = []
    for c in columns:
        m = re.match(r"^(.*?_)(\d+)$", c)
        name = f"{m.group(1)}*" if m else c
        if name not in out:
            out.append(name)
    return out


def landmark_array(num: dict[str, np.ndarray], columns: tuple[list[str], list[str]], rows: np.ndarray) -> np.ndarray:
    """(len(rows), 68, 2) float32 landmarks of the chosen rows from the x_/y_ columns."""
    xs, ys = columns
    return np.stack([np.stack([num[x][rows] for x in xs], 1), np.stack([num[y][rows] for y in ys], 1)],
                    axis=2).astype(np.float32)
