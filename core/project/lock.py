"""One writer per project: an fcntl lock on ``.lock`` plus ``lock.json`` saying who holds it.

The kernel drops the fcntl lock when the holder dies, so a crashed session never blocks the next
one. ``lock.json`` is only for people (user@host pid N since T) and for file systems without
working locks, where a dead pid on this host marks the lock stale and it is taken over.
"""
from __future__ import annotations

import errno
import fcntl
import getpass
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from .fsio import atomic_write_bytes, remove_quietly

LOCK_NAME = ".lock"
INFO_NAME = "lock.json"
STALE_GRACE_S = 0.5  # a new holder writes lock.json just after taking the lock: wait before calling it stale


@dataclass(frozen=True)
class LockInfo:
    user: str
    host: str
    pid: int
    started: float

    def __str__(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"{self.user}@{self.host} pid {self.pid} since {since}"

    @classmethod
    def mine(cls) -> "LockInfo":
        try:
            user = getpass.getuser()
        except Exception:  # no passwd entry in some containers
            user = os.environ.get("USER", "unknown")
        return cls(user, socket.gethostname(), os.getpid(), time.time())

    def to_json(self) -> bytes:
        return json.dumps({"user": self.user, "host": self.host, "pid": self.pid, "started": self.started,
                           "holder": str(self)}, indent=1).encode()


def read_info(folder: Path) -> LockInfo | None:
    try:
        d = json.loads((folder / INFO_NAME).read_bytes())
        return LockInfo(str(d["user"]), str(d["host"]), int(d["pid"]), float(d["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs on this host (zombies count as dead: they hold nothing)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _stale(info: LockInfo | None) -> bool:
    return info is not None and info.host == socket.gethostname() and not pid_alive(info.pid)


class ProjectLock:
    """Held for the life of a writable Project. ``acquire`` returns (lock, None) or (None, holder text)."""

    def __init__(self, folder: Path, fd: int | None, info: LockInfo) -> None:
        self.folder = folder
        self.fd = fd  # None where the file system has no working fcntl locks (or after a stale take-over)
        self.info = info

    @classmethod
    def acquire(cls, folder: Path) -> tuple["ProjectLock | None", str | None]:
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            kernel = True
        except OSError as e:
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                kernel = False
                os.close(fd)
                fd = None
                holder = cls._wait_for_holder(folder)
                if not _stale(holder):
                    return None, str(holder) if holder else "another process (no lock.json)"
            elif e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                os.close(fd)
                fd = None
                kernel = False
                holder = read_info(folder)
                if holder is not None and holder.pid != os.getpid() and not _stale(holder):
                    return None, str(holder)
            else:
                os.close(fd)
                raise
        info = LockInfo.mine()
        try:
            atomic_write_bytes(folder / INFO_NAME, info.to_json())
        except Exception:
            if kernel:
                os.close(fd)
            raise
        return cls(folder, fd, info), None

    @staticmethod
    def _wait_for_holder(folder: Path) -> LockInfo | None:
        holder = read_info(folder)
        if holder is None or _stale(holder):
            deadline = time.monotonic() + STALE_GRACE_S
            while time.monotonic() < deadline:
                time.sleep(0.05)
                holder = read_info(folder)
                if holder is not None and not _stale(holder):
                    break
        return holder

    def release(self) -> None:
        if read_info(self.folder) == self.info:
            remove_quietly(self.folder / INFO_NAME)
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None


def holder_of(folder: Path) -> str | None:
    """Who holds the project now (None when nobody does), without touching the lock itself
    (probing the fcntl lock could make a writer opening at that instant fall back to read-only)."""
    info = read_info(folder)
    return None if info is None or _stale(info) else str(info)
