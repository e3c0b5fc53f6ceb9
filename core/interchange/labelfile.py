"""One Aff-Wild2 label file: parse and validate it, remember its spelling, and write it back.

Validity (SPEC.md, "Label spaces"): VA rows hold two values in [-1, 1], or -5 in both columns
(unlabelled). A -5 in one column only is rejected as a sentinel in the wrong place: the row would be
read as unlabelled and its other value silently lost. EXPR rows hold one class index of the header's
classes or -1. AU rows hold 0/1 per header AU, or -1 in every column; -1 in some columns only is a
sentinel in the wrong place. Every problem names the file and its 1-based line (the header is line 1).

``FileFormat`` records what is needed to write the file again byte for byte: the header text, line
ends, the number style of each column, the sentinel spelling, and the raw text of any line the
styles do not reproduce (kept with its values, and used only while the values are unchanged).
"""
from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LabelFileError
from ..labels import AU_MISSING, EXPR_MISSING, EXPRESSIONS, VA_FILE_MISSING, VA_NAMES, VA_RANGE, au_number
from ..safepaths import excerpt, require_file
from .numfmt import DEFAULT_FLOAT, DEFAULT_INT, NUMBER, detect_style, format_column, format_number, spell_column

MAX_PROBLEMS = 20  # per file; the count of the rest is reported
SENTINEL_SAMPLE = 2000
SENTINEL = {"va": VA_FILE_MISSING, "expr": EXPR_MISSING, "au": AU_MISSING}


@dataclass
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}: " + (f"line {self.line}: " if self.line else "") + self.message


@dataclass
class FileFormat:
    header: str  # raw first line, BOM and '\r' included
    crlf: bool
    styles: list[str]
    sentinel: list[str]
    n_lines: int
    trailer: list[str] = field(default_factory=list)  # whitespace-only segments after the last line
    raw: dict[int, tuple[str, list[float | None]]] = field(default_factory=dict)  # line -> (text, values)

    def to_dict(self) -> dict[str, Any]:
        return {"header": self.header, "crlf": self.crlf, "styles": self.styles, "sentinel": self.sentinel,
                "n_lines": self.n_lines, "trailer": self.trailer,
                "raw": {str(i): [t, v] for i, (t, v) in self.raw.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FileFormat":
        return cls(d["header"], bool(d["crlf"]), list(d["styles"]), list(d["sentinel"]), int(d["n_lines"]),
                   list(d.get("trailer", [])), {int(i): (t, list(v)) for i, (t, v) in d.get("raw", {}).items()})


@dataclass
class LabelFile:
    """Parsed content: ``values`` (n, columns) float64 with NaN for unlabelled rows."""

    path: Path
    task: str
    columns: tuple[str, ...]  # VA names, expression class names, or AU names
    values: np.ndarray
    fmt: FileFormat

    @property
    def n_lines(self) -> int:
        return len(self.values)


def header_columns(task: str, header: str) -> tuple[str, ...] | str:
    """Validated column names of a header line, or the problem text."""
    tokens = [t.strip() for t in header.lstrip("\ufeff").strip().split(",")]
    if task == "va":
        if [t.lower() for t in tokens] != list(VA_NAMES):
            return f"wrong header {excerpt(header.strip())} for a VA file (expected 'valence,arousal')"
        return VA_NAMES
    if task == "expr":
        for names in (EXPRESSIONS[:7], EXPRESSIONS):
            if [t.lower() for t in tokens] == [n.lower() for n in names]:
                return tuple(names)
        return (f"wrong header {excerpt(header.strip())} for an expression file (expected "
                f"'{','.join(EXPRESSIONS[:7])}' or the same with ',Other')")
    try:
        aus = tuple(f"AU{au_number(t)}" for t in tokens)
    except ValueError:
        return f"wrong header {excerpt(header.strip())} for an AU file (expected AU names like 'AU1,AU2,AU4')"
    if len(set(aus)) != len(aus):
        return f"wrong header {excerpt(header.strip())}: an action unit is listed twice"
    return aus


def _row_problem(task: str, row: list[float], n_classes: int) -> str | None:
    if task == "va":
        miss = [v == VA_FILE_MISSING for v in row]
        if any(miss) and not all(miss):
            return "sentinel -5 in one VA column only (an unlabelled row has -5 in both)"
        if not any(miss):
            for name, v in zip(VA_NAMES, row):
                if not VA_RANGE[0] <= v <= VA_RANGE[1]:
                    return f"{name} {v:g} out of range [-1, 1]"
        return None
    if task == "expr":
        v = row[0]
        if v == VA_FILE_MISSING:
            return "sentinel -5 in an expression file (unlabelled is -1)"
        if v != int(v):
            return f"expression {v:g} is not a class index"
        if v != EXPR_MISSING and not 0 <= v < n_classes:
            return f"expression {int(v)} out of range 0..{n_classes - 1} (or -1)"
        return None
    miss = [v == AU_MISSING for v in row]
    if any(miss) and not all(miss):
        return "sentinel -1 in some AU columns only (an unlabelled row has -1 in every column)"
    if not any(miss):
        for v in row:
            if v not in (0.0, 1.0):
                return f"AU value {v:g} is not 0 or 1 (or -1 for the whole row)"
    return None


def split_lines(text: str) -> tuple[str, list[str], list[str]]:
    """(header, data segments, trailer): segments between '\n', '\r' kept; blank tail segments apart."""
    segs = text.split("\n")
    body = segs[1:]
    cut = len(body)
    while cut > 0 and not body[cut - 1].strip():
        cut -= 1
    return segs[0], body[:cut], body[cut:]


def _line_problem(task: str, seg: str, k: int, n_classes: int) -> str | None:
    """The problem of one data line, or None (the slow path, run for bad lines only)."""
    parts = [t.strip() for t in seg.split(",")]
    if not seg.strip():
        return "empty line"
    if len(parts) != k:
        return f"wrong column count: {len(parts)} values, expected {k}"
    bad = next((t for t in parts if not NUMBER.fullmatch(t)), None)
    if bad is not None:
        return f"non-numeric value {excerpt(bad)}"
    return _row_problem(task, [float(t) for t in parts], n_classes)


def _bad_rows(task: str, v: np.ndarray, n_classes: int) -> np.ndarray:
    """Vectorised _row_problem: rows of parsed values (n, k) that break the task's rules."""
    if task == "va":
        miss = v == VA_FILE_MISSING
        return (miss.any(axis=1) & ~miss.all(axis=1)) | (~miss & ((v < VA_RANGE[0]) | (v > VA_RANGE[1]))).any(axis=1)
    if task == "expr":
        x = v[:, 0]
        return (x != np.floor(x)) | ((x != EXPR_MISSING) & ((x < 0) | (x >= n_classes)))
    miss = v == AU_MISSING
    return (miss.any(axis=1) & ~miss.all(axis=1)) | (~miss.all(axis=1) & ~np.isin(v, (0.0, 1.0)).all(axis=1))


def parse_label_file(path: Path, task: str, text: str | None = None) -> tuple[LabelFile | None, list[Problem]]:
    """Parse and validate one file; returns (LabelFile or None when invalid, problems)."""
    path = Path(path)
    if text is None:
        try:
            text = require_file(path, LabelFileError).read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            return None, [Problem(path, None, f"not UTF-8 text ({e.reason} at byte {e.start})")]
        except LabelFileError as e:
            return None, [Problem(path, None, e.problem)]
        except OSError as e:
            return None, [Problem(path, None, f"cannot read: {e.strerror or e}")]
    header, body, trailer = split_lines(text)
    cols = header_columns(task, header)
    if isinstance(cols, str):
        return None, [Problem(path, 1, cols)]
    n_classes = len(cols)
    k = 1 if task == "expr" else n_classes  # an expression file has one column of class indices
    n = len(body)
    lines = [seg[:-1] if seg.endswith("\r") else seg for seg in body]
    tok, values, ok, plain = _tokens(lines, k)
    if ok.any():
        if not plain:
            for i in np.flatnonzero(ok):
                stripped = [t.strip() for t in tok[i]]
                if all(NUMBER.fullmatch(t) for t in stripped):
                    tok[i] = stripped
                    values[i] = [float(t) for t in stripped]
                else:
                    ok[i] = False
        bad = np.zeros(n, dtype=bool)
        bad[ok] = _bad_rows(task, values[ok], n_classes)
        ok &= ~bad
    if not ok.all():
        wrong = np.flatnonzero(~ok)
        problems = [Problem(path, int(i) + 2, _line_problem(task, body[i], k, n_classes) or "invalid line")
                    for i in wrong[:MAX_PROBLEMS]]
        if len(wrong) > MAX_PROBLEMS:
            problems.append(Problem(path, None, f"{len(wrong) - MAX_PROBLEMS} more problems"))
        return None, problems
    sent = (values == SENTINEL[task]).all(axis=1)
    default = DEFAULT_FLOAT if task == "va" else DEFAULT_INT
    styles = [detect_style(tok[~sent, c], values[~sent, c], default) for c in range(k)]
    step = max(1, int(sent.sum()) // SENTINEL_SAMPLE)  # the usual spelling; other lines are kept raw
    sentinel = [Counter(tok[sent, c][::step].tolist()).most_common(1)[0][0] if sent.any()
                else format_number(SENTINEL[task], "int") for c in range(k)]
    crlf = sum(seg.endswith("\r") for seg in body) * 2 > n if n else header.endswith("\r")
    values[sent] = np.nan
    fmt = FileFormat(header, crlf, styles, sentinel, n, trailer)
    store = values.astype(np.float32) if task == "va" else values
    for line in _unreproduced(store, fmt, tok, body, plain):
        fmt.raw[line] = (body[line], [None if np.isnan(x) else float(x) for x in store[line]])
    return LabelFile(path, task, tuple(cols), values, fmt), []


def _tokens(lines: list[str], k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(tokens (n, k) object, values (n, k) NaN where unparsed, rows with k fields, all plain numbers).

    Plain: every field is an ASCII number float() reads exactly as written (no blanks, '_', nan, inf),
    parsed in one go; otherwise the caller checks the rows one by one. Files of 50 000 lines are common,
    so nothing here loops in Python per line except the comma count."""
    n = len(lines)
    commas = np.fromiter(map(operator.methodcaller("count", ","), lines), dtype=np.int64, count=n)
    ok = commas == k - 1
    tok = np.full((n, k), "", dtype=object)
    values = np.full((n, k), np.nan)
    if not ok.any():
        return tok, values, ok, False
    flat = ",".join(lines if ok.all() else [s for s, g in zip(lines, ok) if g]).split(",")
    tok[ok] = np.array(flat, dtype=object).reshape(-1, k)
    try:  # float() alone would also take 'nan', '1_0', ' 1': those go the slow way
        parsed = np.array(flat, dtype=np.float64).reshape(-1, k)
        joined = "".join(flat)
        plain = bool(np.isfinite(parsed).all()) and joined.isascii() and not any(c in joined for c in "_ \tnNiI")
    except ValueError:
        plain = False
    if plain:
        values[ok] = parsed
    return tok, values, ok, plain


def _unreproduced(store: np.ndarray, fmt: FileFormat, tok: np.ndarray, body: list[str], plain: bool) -> list[int]:
    """Data lines the recorded styles do not spell exactly as read (their raw text is kept).

    For plain files (tokens are the line's fields as written) column by column: each value formatted in
    its style (sentinel rows: the sentinel spelling) against its token, and each line end against the
    file's; otherwise line by line through render_lines."""
    if not plain:
        return [i for i, (r, t) in enumerate(zip(render_lines(store, fmt), body)) if r != t]
    n = len(body)
    miss = np.isnan(store).any(axis=1)
    filled = np.where(np.isnan(store), 0, store)
    wrong = np.fromiter(map(operator.methodcaller("endswith", "\r"), body), dtype=bool, count=n) != fmt.crlf
    for c, style in enumerate(fmt.styles):
        spelled = spell_column(filled[:, c], style)
        spelled[miss] = fmt.sentinel[c]
        wrong |= spelled != tok[:, c]
    return np.flatnonzero(wrong).tolist()


def render_lines(values: np.ndarray, fmt: FileFormat) -> list[str]:
    """The data lines of (n, columns) values in the recorded styles; NaN rows become the sentinels."""
    miss = np.isnan(values).any(axis=1)
    filled = np.where(np.isnan(values), 0, values)
    cols = [format_column(filled[:, c], s) for c, s in enumerate(fmt.styles)]
    end = "\r" if fmt.crlf else ""
    unl = ",".join(fmt.sentinel) + end
    return [unl if m else ",".join(parts) + end for m, parts in zip(miss.tolist(), zip(*cols))]


def render_row(row: np.ndarray, fmt: FileFormat) -> str:
    return render_lines(np.asarray(row, dtype=np.float64).reshape(1, -1), fmt)[0]


def default_format(task: str, header: str) -> FileFormat:
    """The spelling of a file written from scratch: shortest floats, integers, '-5'/'-1' sentinels, '\n'."""
    n = header.count(",") + 1 if task != "expr" else 1
    style = DEFAULT_FLOAT if task == "va" else DEFAULT_INT
    sentinel = format_number(SENTINEL[task], "int")
    return FileFormat(header, False, [style] * n, [sentinel] * n, -1, [""])


def render_file(values: np.ndarray, fmt: FileFormat) -> str:
    """Text of a label file from (n, columns) values (NaN = unlabelled) in the recorded spelling.

    Lines with recorded raw text are written as read while their values are unchanged; lines past
    the end of ``values`` (a file longer than its video) are written from the raw text alone.
    """
    n_lines = fmt.n_lines if fmt.n_lines >= 0 else len(values)
    m = min(n_lines, len(values))
    lines = render_lines(np.asarray(values[:m], dtype=np.float64), fmt)
    lines += [",".join(fmt.sentinel) + ("\r" if fmt.crlf else "")] * (n_lines - m)
    for i, (text, stored) in fmt.raw.items():
        if i >= n_lines:
            continue
        if i >= m or _same(values[i], stored):
            lines[i] = text
    return "\n".join([fmt.header] + lines + list(fmt.trailer))


def _same(row: np.ndarray, stored: list[float | None]) -> bool:
    return len(row) == len(stored) and all(
        (np.isnan(v) if s is None else (not np.isnan(v) and float(v) == s)) for v, s in zip(row, stored))
