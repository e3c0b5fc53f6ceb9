"""Names and paths that come from users and files, kept safe.

A name (video, track, annotator, split) becomes part of file paths, so it must be one plain file-name
part. A path read from a project or a label file must stay inside the folder it is relative to. A file
is opened only when it is a regular file: opening a FIFO blocks forever, a device may never end.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import AffectTraceError

MAX_NAME_BYTES = 200  # file names hold 255 bytes; room for suffixes such as ".h5" or "-a1b2c3.txt"
EXCERPT_CHARS = 60


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    """``repr`` of text from a file, cut to ``limit`` characters: error messages quote, never echo."""
    s = str(text)
    if len(s) <= limit:
        return repr(s)
    return repr(s[:limit]) + f"... ({len(s):,} characters)"


_PLAIN = re.compile(r"[A-Za-z0-9_+@=,-][A-Za-z0-9 _.+@=,()-]{0,199}")  # the usual names: accepted at once


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a video/track/annotator/split name (None when it can)."""
    if isinstance(name, str) and _PLAIN.fullmatch(name) and name.strip() == name:
        return None
    if not isinstance(name, str):
        return f"must be text, not {type(name).__name__}"
    if not name.strip():
        return "is empty"
    if name in (".", ".."):
        return f"{name!r} names a folder"
    if "/" in name or "\\" in name:
        return f"{excerpt(name)} holds a path separator"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"{excerpt(name)} holds a control character"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"{excerpt(name, 20)} is longer than {MAX_NAME_BYTES} bytes"
    return None


def check_name(name: object, what: str, where: str | Path | None = None,
               error: type[AffectTraceError] = AffectTraceError) -> str:
    """``name`` when it is a safe single file-name part, else ``error`` naming ``where``."""
    problem = name_problem(name)
    if problem is not None:
        raise error(f"{what} {problem}", where)
    return name  # type: ignore[return-value]


def inside(folder: Path, rel: str, what: str, where: str | Path | None = None,
           error: type[AffectTraceError] = AffectTraceError) -> Path:
    """``folder / rel`` when ``rel`` is a relative path that stays inside ``folder`` (lexically)."""
    if not isinstance(rel, str) or not rel or "\0" in rel:
        raise error(f"{what} {excerpt(rel)} is not a relative path", where)
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts:
        raise error(f"{what} {excerpt(rel)} points outside the project", where)
    return folder / p


def within(root: Path, path: Path, what: str, error: type[AffectTraceError] = AffectTraceError) -> Path:
    """``path`` when, after resolving '..', it lies under ``root``: the last check before writing."""
    full = Path(os.path.abspath(path))
    base = Path(os.path.abspath(root))
    if full != base and base not in full.parents:
        raise error(f"{what} would be written outside {base}", path)
    return path


def file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def require_file(path: str | Path, error: type[AffectTraceError] = AffectTraceError) -> Path:
    """``path`` when it is an existing regular file (checked by stat, which never blocks)."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise error("file not found", p) from None
    except OSError as e:
        raise error(f"cannot read: {e.strerror or e}", p) from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"is {file_kind(st.st_mode)}, not a regular file", p)
    return p
