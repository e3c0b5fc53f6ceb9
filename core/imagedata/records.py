"""What every database reader gives: one row per labelled image, the problems found (file and line), and
how the database's own labels were mapped."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import LabelFileError
from ..interchange.labelfile import Problem
from ..labels import EXPR_MISSING
from ..safepaths import file_kind

# How a row's 112x112 crop is made (recorded per row in the cache as the index in this tuple):
CROP_METHODS = ("none", "landmarks68", "points5", "aligned", "box", "crop", "detect")


@dataclass
class ImageRow:
    """One image: its path below the database root, split, labels and what aligns it.

    ``expr`` is a class index of the reader's expression space (-1 unlabelled); ``va`` NaN where
    unlabelled; ``au`` -1 where unlabelled; ``points`` (68, 2) or (5, 2) in image pixels; ``box`` x, y,
    w, h in image pixels; ``source_label`` the database's own label (AffectNet 0-10, RAF-DB 1-7, ...)."""

    path: str
    split: str
    method: str
    expr: int = EXPR_MISSING
    va: tuple[float, float] = (float("nan"), float("nan"))
    au: tuple[int, ...] = ()
    points: np.ndarray | None = None
    box: tuple[float, float, float, float] | None = None
    source_label: int = -1
    file: str = ""  # the label file (relative to the root) the row came from
    line: int = 0  # 1-based line in that file (0: not a text line)


@dataclass
class RowSet:
    """A database read into rows. ``label_map``: each of the database's labels -> what it became."""

    database: str
    layout: str
    root: Path
    expr_space: str
    expr_classes: tuple[str, ...]
    au_names: tuple[str, ...] = ()
    has_va: bool = False
    alignment: str = ""
    rows: list[ImageRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    label_map: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows left out (not errors)

    def problem(self, file: str | Path, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.root / file, line, message))

    def image_ok(self, file: str | Path, line: int | None, image: str) -> bool:
        """True when ``image`` (relative to the root) is a regular file; else the problem is recorded
        against the row's label ``file`` and ``line``, naming the image by its full path."""
        bad = file_problem(self.root / image)
        if bad is not None:
            self.problem(file, line, f"image not found: {self.root / image}" if bad == MISSING
                         else f"image {self.root / image} {bad}")
        return bad is None

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


MISSING = "does not exist"


def display(text: str) -> str:
    """``text`` printable and storable as UTF-8: bytes of a file name that are not UTF-8 (held as
    surrogates by Python) shown as \\xNN escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file (MISSING, a FIFO, a folder, a device...), or None. Only
    ``stat``: it never opens the file, so a FIFO cannot block."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return MISSING
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if not stat.S_ISREG(st.st_mode):
        return f"is {file_kind(st.st_mode)}, not a regular file"
    return None


class InvalidRowsError(LabelFileError):
    """Rows of a database failed validation; ``problems`` lists each (file and line)."""

    def __init__(self, problems: list[Problem], root: Path) -> None:
        self.problems = problems
        files = len({p.path for p in problems})
        super().__init__(f"{len(problems)} invalid row(s) in {files} file(s), nothing imported (first: "
                         f"{problems[0]}); use --skip-invalid to import the rest", root)


def relative_image(rel: str) -> str | None:
    """A path from a label file as a clean relative POSIX path, or None when it is absolute, empty or
    climbs out of the database folder (a hostile or broken row)."""
    rel = rel.strip().replace("\\", "/")
    if not rel or "\0" in rel:
        return None
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts:
        return None
    return p.as_posix()


def parse_va(valence: str, arousal: str, missing: float | None) -> tuple[tuple[float, float], str | None]:
    """Two VA cells -> ((v, a) or NaN pair, problem or None). ``missing``: the database's sentinel."""
    try:
        v, a = float(valence), float(arousal)
    except ValueError:
        return (np.nan, np.nan), f"valence/arousal {valence!r}, {arousal!r} are not numbers"
    if not (np.isfinite(v) and np.isfinite(a)):
        return (np.nan, np.nan), "valence/arousal are not finite"
    if missing is not None and (v == missing or a == missing):
        if v != a:
            return (np.nan, np.nan), f"sentinel {missing:g} in one VA column only"
        return (np.nan, np.nan), None
    if not (-1.0 <= v <= 1.0 and -1.0 <= a <= 1.0):
        return (np.nan, np.nan), f"valence/arousal {v:g}, {a:g} out of range [-1, 1]"
    return (v, a), None
