"""Every file AffectTrace opens goes through here: reads of regular files only (a FIFO or a device would
block or never end), writes that never follow a symbolic link, atomic replaces, and one error naming the
file for each failure (a full disk included).

Links: a file AffectTrace writes (journal segment, lock, events.jsonl, face cache, checkpoint, manifest,
output table) is never written through a symbolic link: the write is refused with one line. Folders
inside a project or run (``journal/``, ``tracks/``, ``models/``, ``cache/faces/``...) must be real folders
too (``real_folder``); only the folder the user names on the command line (the project, ``--models``,
an output folder) may itself be, or lie under, a link. Keep caches on another disk with a bind mount or
by putting the whole project there.
"""
from __future__ import annotations

import csv
import errno
import fcntl
import hashlib
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from .errors import AffectTraceError, ProjectError
from .safepaths import file_kind, project_around

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
LINK_REFUSED = "is a symbolic link: AffectTrace does not write through links (remove the link)"
FOLDER_LINK_REFUSED = ("is a symbolic link to a folder: AffectTrace writes only into real folders inside a "
                       "project (use a bind mount, or move the whole project, to keep it on another disk)")


def os_problem(e: OSError) -> str:
    """'No space left on device' style text for an OSError (its errno name when there is no message)."""
    if e.strerror:
        return e.strerror
    if e.errno:
        return os.strerror(e.errno)
    return str(e) or type(e).__name__


def _link_errno(e: OSError) -> bool:
    # O_NOFOLLOW on a link: ELOOP on Linux, EMLINK on FreeBSD, EFTYPE on NetBSD
    return e.errno in (errno.ELOOP, errno.EMLINK, getattr(errno, "EFTYPE", -1))


def open_regular(path: str | Path, flags: int, mode: int = 0o644,
                 error: type[AffectTraceError] = AffectTraceError, verb: str = "cannot write",
                 follow: bool = False) -> int:
    """``os.open`` that never follows a link in the last component (unless ``follow``: reads) and never
    blocks on a FIFO: the file is opened non-blocking, checked to be a regular file (by fstat, so no
    race), then set blocking again.

    A link, a FIFO, a folder or a device is refused with ``error`` naming ``path``; any other OSError
    (missing, permission, full disk) likewise, as '<verb>: <problem>'."""
    p = Path(path)
    if flags & (os.O_WRONLY | os.O_RDWR):
        no_linked_folder(p, error)
    try:
        fd = os.open(p, flags | (0 if follow else NOFOLLOW) | CLOEXEC | os.O_NONBLOCK, mode)
    except OSError as e:
        if _link_errno(e) or (e.errno == errno.ENXIO and _is_fifo(p)):
            raise error(LINK_REFUSED if _link_errno(e) else f"is {file_kind(stat.S_IFIFO)}, not a regular file",
                        p) from None
        if e.errno == errno.EISDIR:
            raise error("is a folder, not a regular file", p) from None
        raise error(f"{verb}: {os_problem(e)}", p) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"is {file_kind(st.st_mode)}, not a regular file", p)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_fifo(p: Path) -> bool:
    try:
        return stat.S_ISFIFO(os.lstat(p).st_mode)
    except OSError:
        return False


def read_regular(path: str | Path, error: type[AffectTraceError] = AffectTraceError,
                 limit: int | None = None) -> bytes:
    """The bytes of ``path`` when it is a regular file (a FIFO, device or folder is refused at once);
    ``limit``: refuse a file larger than this many bytes rather than read it into memory."""
    fd = open_regular(path, os.O_RDONLY, error=error, verb="cannot read", follow=True)
    try:
        if limit is not None and os.fstat(fd).st_size > limit:
            raise error(f"is {os.fstat(fd).st_size:,} bytes, more than the {limit:,} this file may hold", path)
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read()
    except OSError as e:
        raise error(f"cannot read: {os_problem(e)}", path) from None
    finally:
        os.close(fd)


def read_text(path: str | Path, error: type[AffectTraceError] = AffectTraceError,
              limit: int | None = None) -> str:
    """``read_regular`` decoded as UTF-8 (a file that is not UTF-8 is refused with ``error``)."""
    try:
        return read_regular(path, error, limit).decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"is not UTF-8 text (byte {e.start})", path) from None


MAX_LINE_BYTES = 1 << 20  # a line of a label table, a cell included: longer ones are refused, never read whole
MAX_COLUMNS = 10_000


def scan_table(path: str | Path, error: type[AffectTraceError] = AffectTraceError, sep: str = ",",
               max_line: int = MAX_LINE_BYTES, max_columns: int = MAX_COLUMNS) -> None:
    """Check a text table before a parser (pandas, csv) reads it: a regular file, no line longer than
    ``max_line`` bytes, at most ``max_columns`` columns in its header. Streams in 1 MiB blocks, so a 1 GB
    line costs 1 MiB of memory and is refused in about a second."""
    fd = open_regular(path, os.O_RDONLY, error=error, verb="cannot read", follow=True)
    line, length, header, separators = 1, 0, True, max_columns - 1
    with os.fdopen(fd, "rb") as f:
        while block := f.read(1 << 20):
            start = 0
            while True:
                end = block.find(b"\n", start)
                piece = len(block) - start if end < 0 else end - start
                length += piece
                if header:
                    separators -= block.count(sep.encode(), start, start + piece)
                    if separators < 0:
                        raise error(f"line 1 has more than {max_columns:,} columns: not a label table", path)
                if length > max_line:
                    raise error(f"line {line:,} is longer than {max_line:,} bytes: not a label table", path)
                if end < 0:
                    break
                line, length, header, start = line + 1, 0, False, end + 1


def csv_rows(path: str | Path, error: type[AffectTraceError] = AffectTraceError, delimiter: str = ",",
             max_line: int = MAX_LINE_BYTES, max_columns: int = MAX_COLUMNS) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of a CSV file, with bounded memory: a regular file only, lines and cells up to
    ``max_line`` bytes, rows up to ``max_columns`` cells, UTF-8 (a BOM is dropped); each breach is
    ``error`` naming the file and line."""
    csv.field_size_limit(max(max_line, csv.field_size_limit()))
    fd = open_regular(path, os.O_RDONLY, error=error, verb="cannot read", follow=True)

    def lines(f: BinaryIO) -> Iterator[str]:
        n = 0
        while raw := f.readline(max_line + 1):
            n += 1
            if len(raw) > max_line:
                raise error(f"line {n:,} is longer than {max_line:,} bytes", path)
            try:
                yield raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError:
                raise error(f"line {n:,} is not UTF-8 text", path) from None

    with os.fdopen(fd, "rb") as f:
        reader = csv.reader(lines(f), delimiter=delimiter)
        try:
            for row in reader:
                if len(row) > max_columns:
                    raise error(f"line {reader.line_num:,} has {len(row):,} cells, more than {max_columns:,}",
                                path)
                yield reader.line_num, row
        except csv.Error as e:
            raise error(f"line {reader.line_num:,}: {e}", path) from None
        except OSError as e:
            raise error(f"cannot read: {os_problem(e)}", path) from None


def open_append(path: str | Path, error: type[AffectTraceError] = AffectTraceError) -> int:
    """A descriptor appending to ``path`` (created if missing), never through a link."""
    return open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, error=error)


def append_text(path: str | Path, text: str, error: type[AffectTraceError] = AffectTraceError) -> None:
    """Append ``text`` to ``path`` in one write, never through a link."""
    fd = open_append(path, error)
    try:
        write_all(fd, text.encode("utf-8"))
    except OSError as e:
        raise error(f"cannot write: {os_problem(e)}", path) from None
    finally:
        os.close(fd)


def no_linked_folder(path: str | Path, error: type[AffectTraceError] = AffectTraceError) -> None:
    """Refuse ``path`` when a folder between the project it lies in and it is a symbolic link (nothing to
    check outside a project: the folders there are the user's own choice)."""
    full = Path(os.path.abspath(path))
    proj = project_around(full)
    if proj is None:
        return
    here = proj
    for part in full.parent.relative_to(proj).parts:
        here = here / part
        if os.path.islink(here):
            raise error(FOLDER_LINK_REFUSED, here)


def real_folder(folder: str | Path, root: str | Path | None = None,
                error: type[AffectTraceError] = AffectTraceError) -> Path:
    """``folder`` made if missing (parents too); refused when it, or a folder between ``root`` and it, is a
    symbolic link or not a folder. ``root`` (the folder the user named; default the project ``folder``
    lies in, else ``folder`` itself) may itself be a link."""
    folder = Path(folder)
    base = Path(root) if root is not None else (project_around(folder / "x") or folder)
    try:
        rel = folder.relative_to(base)
    except ValueError:
        raise error(f"is not inside {base}", folder) from None
    if not base.is_dir():
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise error(f"cannot make the folder: {os_problem(e)}", base) from None
    here = base
    for part in rel.parts:
        here = here / part
        try:
            os.mkdir(here)
        except FileExistsError:
            pass
        except OSError as e:
            raise error(f"cannot make the folder: {os_problem(e)}", here) from None
        mode = os.lstat(here).st_mode
        if stat.S_ISLNK(mode):
            raise error(FOLDER_LINK_REFUSED, here)
        if not stat.S_ISDIR(mode):
            raise error(f"is {file_kind(mode)}, not a folder", here)
    return folder


def not_a_link(path: str | Path, error: type[AffectTraceError] = AffectTraceError) -> Path:
    """``path`` when it is not a symbolic link (missing is fine): the check before a library opens a file
    for writing by name (h5py) and cannot be given O_NOFOLLOW."""
    p = Path(path)
    no_linked_folder(p, error)
    try:
        mode = os.lstat(p).st_mode
    except FileNotFoundError:
        return p
    except OSError as e:
        raise error(f"cannot write: {os_problem(e)}", p) from None
    if stat.S_ISLNK(mode):
        raise error(LINK_REFUSED, p)
    if not stat.S_ISREG(mode):
        raise error(f"is {file_kind(mode)}, not a regular file", p)
    return p


ROOM_MARGIN = 1 << 20  # kept free besides what a write needs: metadata, other writers


def ensure_room(path: str | Path, nbytes: int, error: type[AffectTraceError] = AffectTraceError) -> None:
    """Refuse, naming ``path``, a write of ``nbytes`` that its disk has no room for. Checked before a
    library that writes in place (HDF5) is asked to: HDF5 failing on a full disk leaves its objects
    broken, and freeing them later can crash the process (SIGSEGV, SIGBUS)."""
    p = Path(path)
    try:
        st = os.statvfs(p if p.is_dir() else p.parent)
    except OSError:
        return  # the write itself will say what is wrong
    free = st.f_bavail * st.f_frsize
    if free < nbytes + ROOM_MARGIN:
        need = f", about {nbytes:,} needed" if nbytes else ""
        raise error(f"cannot write: {os.strerror(errno.ENOSPC)} ({free:,} bytes free{need})", p)


def disk_problem(path: str | Path, e: BaseException) -> str:
    """Why writing ``path`` failed: 'no space left on device' when its file system is (nearly) full,
    whatever the library said (torch's 'unexpected pos', HDF5's 'Disable slist on flush dest failure')."""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return os.strerror(e.errno)  # not HDF5's page-long strerror
    try:
        st = os.statvfs(Path(path).parent)
        if st.f_bavail * st.f_frsize < 1 << 20:
            return os.strerror(errno.ENOSPC)
    except OSError:
        pass
    if isinstance(e, OSError):
        return os_problem(e)
    return (str(e).splitlines() or [type(e).__name__])[0][:200]


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (regular files may take partial writes on signals)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.EIO, "write returned no progress")
        view = view[n:]


def fsync_dir(folder: Path) -> None:
    """Make renames and new names in ``folder`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_bytes(path: Path, data: bytes, error: type[AffectTraceError] = ProjectError) -> None:
    """Replace ``path`` with ``data`` so a crash leaves either the old or the new content, never a mix."""
    atomic_write_with(path, lambda tmp: _write_bytes(tmp, data), error=error)


def _write_bytes(tmp: Path, data: bytes) -> None:
    fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | NOFOLLOW | CLOEXEC)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_with(path: Path, writer: Callable[[Path], None], sync_dir: bool = True,
                      error: type[AffectTraceError] = ProjectError) -> None:
    """Run ``writer(tmp)`` (which must write and fsync the file), then rename tmp over ``path``.

    The temporary file is created first, exclusively and never through a link, in ``path``'s folder;
    ``writer`` reopens it by name. A ``path`` that is a link, a folder or a FIFO is refused (the rename
    would replace the link, not write through it, but a link where a project file belongs is refused
    everywhere alike). Any OSError (full disk, permissions), or a library's own error while the disk is
    full, removes the temporary file and raises ``error`` naming ``path``; the previous ``path`` is
    untouched.
    """
    path = Path(path)
    not_a_link(path, error)
    tmp = tmp_name(path)
    try:
        remove_quietly(tmp)  # a stale one from a crashed process with this pid (or a planted link)
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC, 0o644))
        writer(tmp)
        os.replace(tmp, path)
        if sync_dir:
            fsync_dir(path.parent)
    except OSError as e:
        remove_quietly(tmp)
        raise error(f"cannot write: {disk_problem(path, e)}", path) from e
    except AffectTraceError:
        remove_quietly(tmp)
        raise
    except Exception as e:  # a library's error (torch, h5py) hiding a full disk is said as one
        remove_quietly(tmp)
        problem = disk_problem(path, e)
        if problem != os.strerror(errno.ENOSPC):
            raise
        raise error(f"cannot write: {problem}", path) from e
    except BaseException:
        remove_quietly(tmp)
        raise


def remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(*parts: str, limit: int = 60) -> str:
    """A file-name stem for arbitrary names: readable prefix plus a short hash that keeps it unique."""
    readable = "__".join(_UNSAFE.sub("_", p).strip("._") or "_" for p in parts)[:limit]
    digest = hashlib.sha1("\0".join(parts).encode("utf-8")).hexdigest()[:8]
    return f"{readable}-{digest}"
