"""Leases with a heartbeat: who may write a project-wide change or an annotator's lane, across hosts.

fcntl/flock cannot be trusted on NFS or SMB, so a lease is two plain files in one folder:

    <name>.lease              who holds it (JSON: holder, host, pid, session, since, took_over_from);
                              made complete under a temporary name and linked into place (link(2)
                              fails when the name exists, on NFS too), never rewritten while held
    <name>.beat-<session>     the holder's heartbeat counter, rewritten every BEAT_S seconds

Whether a lease is alive is judged by each observer on its own monotonic clock: a counter that has not
changed for EXPIRE_S seconds of watching is dead. Nobody compares wall clocks between hosts, so any
clock skew is tolerated (the observer's clock only has to run at a sane rate: within EXPIRE_S / BEAT_S
= 6x). On the holder's own host a dead pid ends the lease at once. A lease is broken by renaming it
aside (atomic: of two breakers one wins), then taken by link as usual. The holder re-reads its lease
file at every beat; once it names another session the holder knows it lost the lease (``lost``).
"""
from __future__ import annotations

import errno
import json
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import ProjectError
from ..fsio import open_regular, os_problem, remove_quietly, write_all
from .lock import pid_alive

# the holder renews its heartbeat every BEAT_S; an observer that sees no beat for EXPIRE_S (its own monotonic
# clock) calls the lease dead. A share with long stalls (a slow VPN) wants a longer EXPIRE_S: set it for
# every workstation alike.
BEAT_S = float(os.environ.get("AFFECTTRACE_LEASE_BEAT_S") or 2.0)
EXPIRE_S = float(os.environ.get("AFFECTTRACE_LEASE_EXPIRE_S") or 12.0)
HOSTNAME_ENV = "AFFECTTRACE_HOSTNAME"  # tests and odd set-ups name the workstation here


def host_name() -> str:
    return os.environ.get(HOSTNAME_ENV) or socket.gethostname()


def user_name() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def new_session_id() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True)
class LeaseInfo:
    holder: str  # the annotator, or the user for the project lease
    host: str
    pid: int
    session: str
    since: float  # the holder's wall clock: for people only
    purpose: str = ""
    took_over_from: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        what = f" ({self.purpose})" if self.purpose else ""
        return f"{self.holder} on {self.host} pid {self.pid} since {when}{what}"

    def to_json(self) -> bytes:
        d = {"holder": self.holder, "host": self.host, "pid": self.pid, "session": self.session,
             "since": self.since, "purpose": self.purpose, "text": str(self)}
        if self.took_over_from:
            d["took_over_from"] = self.took_over_from
        return json.dumps(d, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "LeaseInfo":
        d = json.loads(raw)
        return cls(str(d["holder"]), str(d["host"]), int(d["pid"]), str(d["session"]), float(d["since"]),
                   str(d.get("purpose", "")), dict(d.get("took_over_from") or {}))


class LeaseHeld(Exception):
    """The lease is held by someone alive (``info``); taking it over needs ``take_over=True``."""

    def __init__(self, info: LeaseInfo) -> None:
        super().__init__(str(info))
        self.info = info


def _read_small(path: Path, limit: int = 65536) -> bytes:
    """A small regular file's bytes, never through a link nor blocking on a FIFO; FileNotFoundError when
    it is absent, OSError when it cannot be read (the share is away)."""
    try:
        fd = open_regular(path, os.O_RDONLY, error=ProjectError, verb="cannot read")
    except ProjectError as e:
        if not os.path.lexists(path):
            raise FileNotFoundError(errno.ENOENT, "no such file", str(path)) from None
        raise OSError(errno.EIO, e.problem, str(path)) from None
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


def read_lease(path: Path) -> LeaseInfo | None:
    """The lease file's holder, or None when there is none (or it is unreadable: treated as absent)."""
    try:
        return LeaseInfo.from_json(_read_small(path))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def tombstone_path(path: Path, session: str) -> Path:
    return path.with_name(f"{path.name}.taken-{session}")


def clear_notes(path: Path) -> None:
    """Remove the take-over notes left for holders broken earlier: at a clean take (nobody's lease there, none
    broken now) the last holder released normally, so a noted holder that never read its note had crashed
    (another host's session does not come back). One that still comes back, after a long stall, finds its
    lease file gone or another's and stops writing all the same; takeovers.jsonl keeps the record."""
    prefix = f"{path.name}.taken-"
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(prefix)]
    except OSError:
        return
    for name in names:
        remove_quietly(path.parent / name)


def beat_path(path: Path, session: str) -> Path:
    return path.with_name(f"{path.name}.beat-{session}")


def read_beat(path: Path, session: str) -> str | None:
    try:
        return _read_small(beat_path(path, session), 256).decode("ascii", "replace").strip()
    except OSError:
        return None


def _write_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class Watch:
    """An observer's view of one lease: has its heartbeat moved within EXPIRE_S of my monotonic clock?"""

    def __init__(self, path: Path, expire_s: float = EXPIRE_S) -> None:
        self.path = path
        self.expire_s = expire_s
        self._seen: tuple[str, str | None] | None = None  # (session, beat)
        self._since = time.monotonic()

    def look(self) -> tuple[LeaseInfo | None, bool]:
        """(holder or None, dead?) after one more look at the files."""
        info = read_lease(self.path)
        if info is None:
            self._seen = None
            return None, False
        if info.host == host_name() and not pid_alive(info.pid):
            return info, True
        now = time.monotonic()
        state = (info.session, read_beat(self.path, info.session))
        if state != self._seen:
            self._seen, self._since = state, now
            return info, False
        return info, now - self._since >= self.expire_s


class Lease:
    """A held lease. ``acquire`` takes it (waiting up to ``wait_s``), ``release`` gives it back.

    While held a daemon thread beats every BEAT_S seconds; ``lost`` becomes the reason text once the
    lease file names another session (taken over) or cannot be read back (the share is gone).
    """

    def __init__(self, path: Path, info: LeaseInfo) -> None:
        self.path = path
        self.info = info
        self.lost: str | None = None
        self.beat_error: str | None = None  # the last heartbeat write failed (the share vanished, disk full)
        self.on_lost: Callable[[str], None] | None = None
        self._count = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def acquire(cls, path: Path, holder: str, purpose: str = "", wait_s: float = 0.0, take_over: bool = False,
                session: str | None = None, expire_s: float = EXPIRE_S, own_pid_stale: bool = False) -> "Lease":
        """Take the lease at ``path``; raise LeaseHeld naming a live holder when ``wait_s`` runs out.

        A holder that dies on this host frees it at once; one on another host once its heartbeat has not
        moved for ``expire_s`` of watching (so ``wait_s`` must exceed it to take over a crashed host's
        lease). ``take_over`` breaks a live lease (the caller asked the person first) and records whose it was.
        ``own_pid_stale``: a lease of this very process is left over (the caller holds the kernel lock that
        its holder would hold).
        """
        session = session or new_session_id()
        watch = Watch(path, expire_s)
        deadline = time.monotonic() + wait_s
        broke = False
        while True:
            info = LeaseInfo(holder, host_name(), os.getpid(), session, time.time(), purpose)
            current, dead = watch.look()
            if current is not None and own_pid_stale and current.host == host_name() and current.pid == os.getpid():
                dead = True
            if current is not None and (dead or take_over):
                if take_over and not dead:
                    info = LeaseInfo(holder, info.host, info.pid, session, info.since, purpose,
                                     {"holder": current.holder, "host": current.host, "pid": current.pid,
                                      "session": current.session, "since": current.since, "at": time.time(),
                                      "by": f"{holder} on {info.host}"})
                elif dead:
                    info = LeaseInfo(holder, info.host, info.pid, session, info.since, purpose,
                                     {"holder": current.holder, "host": current.host, "session": current.session,
                                      "expired": True, "at": time.time()})
                cls._break(path, current, info)
                broke, current = True, None
            if current is None and cls._create(path, info):
                if not broke:
                    clear_notes(path)
                lease = cls(path, info)
                lease._beat()
                lease._start()
                return lease
            if current is not None and (time.monotonic() >= deadline
                                        or (current.host == host_name() and current.pid == os.getpid())):
                raise LeaseHeld(current)
            time.sleep(min(0.2, BEAT_S / 4))

    @staticmethod
    def _create(path: Path, info: LeaseInfo) -> bool:
        """Link a complete lease file into place; False when someone else's is there."""
        tmp = path.with_name(f".{path.name}.{info.session}.new")
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_file(tmp, info.to_json())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            try:  # no hard links (some SMB mounts): exclusive create is the next best
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            except FileExistsError:
                return False
            try:
                write_all(fd, info.to_json())
                os.fsync(fd)
            finally:
                os.close(fd)
        finally:
            remove_quietly(tmp)
        return read_lease(path) == info  # the link landed (a server retrying the link may say EEXIST wrongly)

    @staticmethod
    def _break(path: Path, dead: LeaseInfo, by: LeaseInfo) -> None:
        """Move a dead (or taken-over) lease aside, leaving its holder a note of who broke it (read by
        ``check`` should it come back); losing this race to another breaker is fine."""
        if not (dead.host == host_name() and not pid_alive(dead.pid)):  # a dead pid here never comes back
            try:
                _write_file(tombstone_path(path, dead.session), by.to_json())
            except OSError:
                pass
        aside = path.with_name(f".{path.name}.{dead.session}.broken-{secrets.token_hex(3)}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return
        try:
            moved = LeaseInfo.from_json(_read_small(aside))
        except (OSError, ValueError, KeyError, TypeError):
            moved = None
        if moved is not None and moved.session != dead.session:
            try:  # a fresh lease slipped in between our look and the rename: put it back
                os.link(aside, path)
            except OSError:
                pass
        remove_quietly(aside)
        remove_quietly(beat_path(path, dead.session))

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"affecttrace-lease-{self.path.name}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(BEAT_S):
            self.check()
            if self.lost:
                return
            self._beat()

    def _beat(self) -> None:
        self._count += 1
        bp = beat_path(self.path, self.info.session)
        tmp = bp.with_name(f".{bp.name}.tmp")
        try:
            _write_file(tmp, f"{self._count}\n".encode())
            os.replace(tmp, bp)
            self.beat_error = None
        except OSError as e:
            self.beat_error = os_problem(e)
            remove_quietly(tmp)  # a full share: no half-written beat file left behind

    def check(self) -> bool:
        """Still mine? Reads the lease file back; sets ``lost`` (and calls ``on_lost``) when not."""
        if self.lost:
            return False
        try:
            raw = _read_small(self.path)
        except FileNotFoundError:
            if not self.path.parent.is_dir():
                self.beat_error = "its folder is gone (the share is away?)"
                return True
            self._lose(self._taken_by() or "its lease file was removed")
            return False
        except OSError as e:
            self.beat_error = os_problem(e)
            return True  # the share is away: not lost until someone else holds it
        try:
            now = LeaseInfo.from_json(raw)
        except (ValueError, KeyError, TypeError):
            return True
        if now.session != self.info.session:
            self._lose(self._taken_by() or f"taken over by {now.holder} on {now.host} (pid {now.pid})")
            return False
        return True

    def _taken_by(self) -> str | None:
        note = read_lease(tombstone_path(self.path, self.info.session))
        if note is None:
            return None
        remove_quietly(tombstone_path(self.path, self.info.session))
        return f"taken over by {note.holder} on {note.host} (pid {note.pid})"

    def _lose(self, why: str) -> None:
        self.lost = why
        if self.on_lost is not None:
            self.on_lost(why)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=BEAT_S * 2)
        if not self.lost and read_lease(self.path) == self.info:
            remove_quietly(self.path)
        remove_quietly(beat_path(self.path, self.info.session))


def lease_state(path: Path) -> LeaseInfo | None:
    """The holder named now (one look: a crashed holder on another host still shows until watched out)."""
    info = read_lease(path)
    if info is not None and info.host == host_name() and not pid_alive(info.pid):
        return None
    return info
