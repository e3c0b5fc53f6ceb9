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

from ..errors import AffectTraceError, ProjectError
from ..fsio import atomic_write_bytes, open_regular, read_regular, remove_quietly

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
        d = json.loads(read_regular(folder / INFO_NAME, limit=1 << 16))
        return LockInfo(str(d["user"]), str(d["host"]), int(d["pid"]), float(d["started"]))
    except (OSError, AffectTraceError, ValueError, KeyError, TypeError):
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
        fd = open_regular(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, error=ProjectError)
        held: int | None = fd  # None: the kernel lock is not ours (no working locks, or an orphan keeps it)
        deadline = time.monotonic() + STALE_GRACE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    # a holder writes lock.json just after locking and removes it just before unlocking:
                    # until the grace ends, try again rather than judge a lock whose holder is unknown
                    holder = read_info(folder)
                    if holder is not None and not _stale(holder):
                        os.close(fd)
                        return None, str(holder)
                    if time.monotonic() < deadline:
                        time.sleep(0.05)
                        continue
                    if holder is None:
                        text = flock_holder(folder / LOCK_NAME)
                        os.close(fd)
                        return None, text
                    os.close(fd)  # lock.json names a dead process: an orphan keeps the lock; take over
                    held = None
                    break
                os.close(fd)
                if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                    raise
                held = None  # no working locks on this file system: lock.json alone decides
                holder = read_info(folder)
                if holder is not None and holder.pid != os.getpid() and not _stale(holder):
                    return None, str(holder)
                break
        info = LockInfo.mine()
        try:
            atomic_write_bytes(folder / INFO_NAME, info.to_json())
        except Exception:
            if held is not None:
                os.close(held)
            raise
        return cls(folder, held, info), None

    def release(self) -> None:
        if read_info(self.folder) == self.info:
            remove_quietly(self.folder / INFO_NAME)
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None


def flock_holder(lock_file: Path) -> str:
    """Who holds the fcntl lock on ``lock_file`` when lock.json does not say: the pid from /proc/locks."""
    try:
        st = os.stat(lock_file)
        ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        for line in Path("/proc/locks").read_text().splitlines():
            f = line.split()
            if len(f) > 5 and f[1] == "FLOCK" and f[5] == ident and f[4].isdigit():
                pid = int(f[4])
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                return f"pid {pid} ({cmd.strip()[:80]}), which wrote no {INFO_NAME}"
    except (OSError, ValueError):
        pass
    return f"another process that wrote no {INFO_NAME}"


def holder_of(folder: Path) -> str | None:
    """Who holds the project now (None when nobody does), without touching the lock itself
    (probing the fcntl lock could make a writer opening at that instant fall back to read-only)."""
    info = read_info(folder)
    return None if info is None or _stale(info) else str(info)
