"""Opening a Project: the lock, the index (or its previous generation), the journal replay, and the checks
that decide whether it may be written (held elsewhere, disk full, read-only medium, a track file gone)."""
from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..errors import ProjectError, ProjectLockedError
from ..fsio import append_text, os_problem, real_folder
from ..safepaths import check_name
from . import storage
from .incomplete import incomplete_note
from .journal import Journal, journal_generations
from .lanefiles import LANE_LEASE, TAKEOVERS_NAME, TEAM_DIR, index_generation, lane_root, project_lease_path
from .lease import BEAT_S, EXPIRE_S, Lease, LeaseHeld, LeaseInfo, host_name, lease_state, user_name
from .lock import LOCK_NAME, ProjectLock, holder_of
from .manifest import MANIFEST_NAME, Manifest
from .spool import Spool
from .state import ProjectState
from .storage import INDEX_NAME, PREV_INDEX_NAME, Index

if TYPE_CHECKING:
    from .project import Project

LOCK_WAIT_S = 10.0  # how long a command waits for a project another process holds


class Opening(ProjectState):
    """The opening part of a Project (class methods that build one)."""

    @classmethod
    def open(cls, folder: str | Path, readonly: bool = False, drop_unreadable: bool = False,
             annotator: str | None = None, take_over: bool = False, wait_s: float = 0.0,
             lease: Lease | None = None) -> Project:
        """Open ``folder``; ``drop_unreadable`` (repair) forgets the tracks whose track file is lost instead of
        opening read-only, keeping a copy of the journal in journal/kept/.

        ``annotator``: open as that annotator's session, writing only their lane (team/<annotator>/); a
        second session of the same annotator opens read-only naming the holder (``holder_info``) unless
        ``take_over`` (ask the person first: it is recorded). ``wait_s``: how long to watch a held lane
        (a crashed workstation's lease is judged dead after lease.EXPIRE_S of watching).
        Without ``annotator`` the session writes the project's own store under the project lease.
        """
        folder = Path(folder).expanduser().absolute()
        if not folder.is_dir():
            raise ProjectError("no such project folder", folder)
        if annotator is not None:
            return cls._open_lane(folder, annotator, readonly, take_over, wait_s, drop_unreadable)
        lock, holder, reason = None, None, "opened read-only on request"
        if not readonly:
            lock, lease, holder, reason = cls._take_project(folder, lease)
            readonly = lock is None
        else:
            holder = holder_of(folder)
            if holder is None:
                info = lease_state(project_lease_path(folder))
                holder = None if info is None else str(info)
        try:
            project = cls._load(folder, readonly, lock, holder, drop_unreadable, lease=lease)
        except BaseException:
            if lock is not None:
                lock.release()
            if lease is not None:
                lease.release()
            raise
        if project.readonly and project.readonly_reason is None:
            project.readonly_reason = reason
            if lock is None and holder is None and reason != "opened read-only on request":
                project.warnings.insert(0, f"opened read-only: {reason}")
        return project

    @staticmethod
    def _take_project(folder: Path, lease: Lease | None) -> tuple[ProjectLock | None, Lease | None, str | None, str]:
        """The kernel lock and the project lease, both or neither: (lock, lease, holder, why not)."""
        if not os.path.lexists(folder / MANIFEST_NAME):
            raise ProjectError("not an AffectTrace project (no project.json)", folder)
        lock, holder, reason = None, None, ""
        try:
            lock, holder = ProjectLock.acquire(folder)
            reason = f"it is open elsewhere: held by {holder}"
            if lock is not None and lease is None:
                lease = Lease.acquire(project_lease_path(folder), user_name(), "project change", own_pid_stale=True)
        except LeaseHeld as e:
            holder = str(e.info)
            reason = f"it is open elsewhere: held by {holder}"
        except ProjectError as e:
            cause = e.__cause__ if isinstance(e.__cause__, OSError) else OSError(0, e.problem)
            reason = not_writable(cause, e.path or folder)
        except OSError as e:
            if e.errno not in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT):
                raise ProjectError(f"cannot lock the project: {os_problem(e)}", folder) from e
            reason = not_writable(e, folder / LOCK_NAME)
        if lock is None or lease is None:
            if lease is not None:
                lease.release()
            if lock is not None:
                lock.release()
            return None, None, holder, reason
        return lock, lease, holder, reason

    @classmethod
    def open_writable(cls, folder: str | Path, wait_s: float = LOCK_WAIT_S) -> Project:
        """Open for writing, or raise ProjectLockedError saying why it cannot be (held, read-only, disk full...).

        A project held by another process is waited for up to ``wait_s`` (a command started at the same
        moment as another finishes after it instead of failing).
        """
        deadline = time.monotonic() + wait_s
        folder = Path(project_folder(folder)).expanduser().absolute()
        while True:
            lease = None
            if os.path.lexists(folder / MANIFEST_NAME) and folder.is_dir():
                try:  # watched long enough to see a crashed workstation's lease expire
                    lease = Lease.acquire(project_lease_path(folder), user_name(), "project change",
                                          wait_s=max(deadline - time.monotonic(), EXPIRE_S + BEAT_S) if wait_s > 0
                                          else 0.0)
                except LeaseHeld as e:
                    if e.info.pid == os.getpid() and e.info.host == host_name():
                        lease = None  # left by this process (a test's crash): open() decides under the kernel lock
                    else:
                        raise ProjectLockedError(f"cannot change the project (opened read-only): it is open elsewhere: "
                                                 f"held by {e.info}", folder) from None
                except (OSError, ProjectError):
                    lease = None  # a read-only or full medium: open() says which
            p = cls.open(folder, lease=lease)
            if not p.readonly:
                return p
            reason, where, holder = p.readonly_reason, p.folder, p.lock_holder
            p.close()
            if holder is None or f"pid {os.getpid()} " in holder or time.monotonic() >= deadline:
                raise ProjectLockedError(f"cannot change the project (opened read-only): {reason}", where)
            time.sleep(0.2)

    @classmethod
    def _open_lane(cls, folder: Path, annotator: str, readonly: bool, take_over: bool, wait_s: float,
                   drop_unreadable: bool) -> Project:
        check_name(annotator, "annotator name", folder, ProjectError)
        if not os.path.lexists(folder / MANIFEST_NAME):
            raise ProjectError("not an AffectTrace project (no project.json)", folder)
        root = lane_root(folder, annotator)
        lease, info, reason = None, None, "opened read-only on request"
        if not readonly:
            try:
                real_folder(root, folder, ProjectError)
                lease = Lease.acquire(root / LANE_LEASE, annotator, "annotating", wait_s=wait_s, take_over=take_over)
            except LeaseHeld as e:
                info = e.info
                reason = f"annotator {annotator} is already annotating in this project: {e.info}"
            except ProjectError as e:
                reason = not_writable(OSError(0, e.problem), e.path or root)
            except OSError as e:
                reason = not_writable(e, root)
        else:
            info = lease_state(root / LANE_LEASE)
        try:
            p = cls._load(folder, lease is None, None, None if info is None else str(info), drop_unreadable,
                          root=root, lane=annotator, lease=lease)
        except BaseException:
            if lease is not None:
                lease.release()
            raise
        p.holder_info = info
        if p.readonly and p.readonly_reason is None:
            p.readonly_reason = reason
        if lease is not None and lease.info.took_over_from:
            record_takeover(root, lease.info)
        return p

    @classmethod
    def _load(cls, folder: Path, readonly: bool, lock: ProjectLock | None, holder: str | None,
              drop_unreadable: bool = False, root: Path | None = None, lane: str | None = None,
              lease: Lease | None = None) -> Project:
        manifest = Manifest.load(folder, settle=os.path.isdir(folder / TEAM_DIR))
        root = root or folder
        warnings: list[str] = []
        index_ok, prev_gen = True, None
        try:
            index = storage.read_index(root / INDEX_NAME)
        except ProjectError as e:
            if not (root / PREV_INDEX_NAME).exists():
                # a lane's first save writes its pack before its first index: packs alone are no damage there
                if not (root / INDEX_NAME).exists() and (lane is not None or not storage.pack_files(root)):
                    index = Index(0, {})  # a hand-written manifest or a new lane: no annotations yet
                    return cls._finish_load(folder, manifest, index, readonly, lock, holder, [], True, None,
                                            drop_unreadable, root, lane, lease)
                raise
            index = storage.read_index(root / PREV_INDEX_NAME)  # its failure is the one to report
            index_ok = False
            warnings.append(f"{e}; using the previous generation {PREV_INDEX_NAME} and the journal")
        else:
            prev_gen = cls._prev_generation(root)
        return cls._finish_load(folder, manifest, index, readonly, lock, holder, warnings, index_ok, prev_gen,
                                drop_unreadable, root, lane, lease)

    @classmethod
    def _finish_load(cls, folder: Path, manifest: Manifest, index: Index, readonly: bool, lock: ProjectLock | None,
                     holder: str | None, warnings: list[str], index_ok: bool, prev_gen: int | None,
                     drop_unreadable: bool = False, root: Path | None = None, lane: str | None = None,
                     lease: Lease | None = None) -> Project:
        make = cast("type[Project]", cls)  # Opening is a part of Project: cls is Project (or a subclass)
        p = make(folder, manifest, index, readonly, lock, holder, root=root, lane=lane, lease=lease)
        root = p.root
        p._index_ok, p._prev_gen = index_ok, (index.generation if not index_ok else prev_gen)
        p.warnings.extend(warnings)
        gens = [g for g in journal_generations(root) if g >= index.generation]
        p._check_entries()
        bad = p._bad_packs(gens)
        if bad and drop_unreadable and not p.readonly:
            p._drop_tracks_in(bad)
        elif bad:
            first = next(iter(bad))
            p._hold_read_only(f"track file {first} {bad[first]}" + (f" (and {len(bad) - 1} more)" if len(bad) > 1
                              else "") + "; restore it (changing the project now could lose the labels and "
                              "journaled edits it holds), or give it up with `affecttrace project repair`")
        if lane is not None:
            p._load_activity()
        p._replay(gens)
        p._load_stores()
        p.warnings.extend(f"video {name!r}: {problem}" for name, v in manifest.videos.items() for problem in v.problems)
        unfinished = incomplete_note(folder)
        if unfinished:
            p.warnings.append(unfinished)
        if not p.readonly:
            p._journal = Journal(root, max(gens + [index.generation]))
            p._keep_unreplayed(gens)
            p._remove_leftovers()
            if lane is not None:
                p._spool = Spool(folder, project_id(manifest), lane)
                p._replay_spool()
        return p

    def _check_entries(self) -> None:
        """Tracks the index holds must fit their video: a manifest edited by hand is refused, not trusted."""
        for (video, name), e in self._entries.items():
            v = self.manifest.videos.get(video)
            if v is not None and e.n_frames != v.frame_count:
                raise ProjectError(f"video {video!r}: frame_count {v.frame_count} differs from the {e.n_frames} "
                                   f"frames of its track {name!r} in {INDEX_NAME}", self.folder / MANIFEST_NAME)

    def _hold_read_only(self, reason: str) -> None:
        """Give up writing (release the lock) so that nothing on disk changes until the user fixes ``reason``."""
        self.warnings.insert(0, f"opened read-only: {reason}")
        if self.readonly:
            return
        self.readonly, self.readonly_reason = True, reason
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    @staticmethod
    def _prev_generation(folder: Path) -> int | None:
        return index_generation(folder, PREV_INDEX_NAME)


def not_writable(e: OSError, path: Path) -> str:
    """Why a project cannot be written, in words: disk full, read-only file system, no permission."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({os_problem(e)}: cannot write {path})"
    if e.errno == errno.EROFS:
        return f"the file system is read-only (cannot write {path})"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"the folder is not writable ({os_problem(e)}: {path})"
    return f"cannot write {path} ({os_problem(e)})"


def project_id(manifest: Manifest) -> str:
    """What names a project in the local spool: its id, or (made before ids) its name and creation time."""
    pid = manifest.extra.get("project_id")
    return str(pid) if pid else f"{manifest.name}|{manifest.created}"


def record_takeover(root: Path, info: LeaseInfo) -> None:
    """Who took over whose lane, when: a line in the lane's takeovers.jsonl (its own file)."""
    line = json.dumps({"at": time.time(), "by": info.holder, "host": info.host, "pid": info.pid,
                       "session": info.session, "from": info.took_over_from}) + "\n"
    try:
        append_text(root / TAKEOVERS_NAME, line, ProjectError)
    except ProjectError:
        pass  # the lease file itself names whose it was (took_over_from)


def project_folder(path: str | Path) -> Path:
    """A project's folder from the folder or its project.json."""
    p = Path(path).expanduser()
    return p.parent if p.name == MANIFEST_NAME and p.is_file() else p
