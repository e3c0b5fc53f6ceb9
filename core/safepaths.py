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


# ------------------------------------------------------------------ outputs

PROJECT_MANIFEST = "project.json"  # what marks a project folder (core.project.manifest.MANIFEST_NAME)
_MAGIC = ((b"\x89HDF\r\n\x1a\n", "HDF5"), (b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"PK\x03\x04", "zip"),
          (b"\x1aE\xdf\xa3", "Matroska/WebM video"), (b"RIFF", "RIFF (AVI/WAV)"), (b"\x80\x02", "pickle"),
          (b"\x93NUMPY", "NumPy"))


def file_content_kind(path: Path) -> str:
    """What an existing regular file holds, from its first bytes: 'HDF5', 'PNG', 'text', 'MP4/MOV video'..."""
    with open(path, "rb") as f:  # the caller checked it is a regular file
        head = f.read(4096)
    if not head:
        return "empty"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[4:8] == b"ftyp":
        return "MP4/MOV video"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "binary data"
    return "text"


def project_around(path: Path) -> Path | None:
    """The project folder ``path`` lies in (a folder above it holding project.json), else None."""
    for folder in Path(os.path.abspath(path)).parents:
        if (folder / PROJECT_MANIFEST).is_file():
            return folder
    return None


PROJECT_SCRATCH = "cache"  # a project's folder for files anyone may add (the app's prediction files...)


def _free_in_project(project: Path, path: Path) -> bool:
    """A new file may go directly into a project folder or under its cache/, nowhere else in it."""
    rel = Path(os.path.abspath(path)).relative_to(project)
    return len(rel.parts) == 1 or rel.parts[0] == PROJECT_SCRATCH


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(out: str | Path, inputs: tuple[str | Path | None, ...] = (), kind: str = "text",
                 force: bool = False, error: type[AffectTraceError] = AffectTraceError) -> Path:
    """``out`` when a command may write its output there: not one of its ``inputs`` (nor an input folder
    itself), not a file or folder of a project (a new file directly in a project folder or under its cache/
    is fine), not a
    link, folder, FIFO or device, and not an existing file holding another ``kind`` of data ('text',
    'HDF5', 'PNG') unless ``force``. The write itself then goes through core.fsio (atomic, no links)."""
    p = Path(out)
    for given in inputs:
        if given is not None and os.path.lexists(given) and _same_file(p, Path(given)):
            raise error("is an input of this command: give another output path", p)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise error(f"cannot write: {e.strerror or e}", p) from None
    proj = project_around(p)
    if proj is not None and (st is not None or not _free_in_project(proj, p)):
        raise error(f"is a file of the project {proj}: write outputs outside the project's own files", p)
    if st is None:
        return p
    if stat.S_ISLNK(st.st_mode):
        raise error("is a symbolic link: AffectTrace does not write through links (remove the link)", p)
    if kind == "folder":
        if not stat.S_ISDIR(st.st_mode):
            raise error(f"is {file_kind(st.st_mode) if not stat.S_ISREG(st.st_mode) else 'a file'}, not a folder", p)
        return p
    if not stat.S_ISREG(st.st_mode):
        raise error(f"is {file_kind(st.st_mode)}: give a file path for the output", p)
    have = file_content_kind(p)
    if have not in (kind, "empty") and not force:
        raise error(f"exists and holds {have}, not {kind}: give --force to replace it", p)
    return p
