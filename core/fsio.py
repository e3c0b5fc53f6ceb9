"""Durable file writes: write all, fsync, atomic replace; each failure is one error naming the file."""
from __future__ import annotations

import errno
import os
import re
import hashlib
from pathlib import Path
from typing import Callable

from .errors import AffectTraceError, ProjectError


def os_problem(e: OSError) -> str:
    """'No space left on device' style text for an OSError (its errno name when there is no message)."""
    if e.strerror:
        return e.strerror
    if e.errno:
        return os.strerror(e.errno)
    return str(e) or type(e).__name__


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
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_with(path: Path, writer: Callable[[Path], None], sync_dir: bool = True,
                      error: type[AffectTraceError] = ProjectError) -> None:
    """Run ``writer(tmp)`` (which must write and fsync the file), then rename tmp over ``path``.

    Any OSError (full disk, permissions) removes the temporary file and raises ``error`` naming
    ``path``; the previous ``path`` is untouched.
    """
    tmp = tmp_name(path)
    try:
        writer(tmp)
        os.replace(tmp, path)
        if sync_dir:
            fsync_dir(path.parent)
    except OSError as e:
        remove_quietly(tmp)
        raise error(f"cannot write: {os_problem(e)}", path) from e
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
