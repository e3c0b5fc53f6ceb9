"""Opening a Project: the lock, the index (or its previous generation), the journal replay, and the checks
that decide whether it may be written (held elsewhere, disk full, read-only medium, a track file gone)."""
from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ProjectError, ProjectLockedError
from ..fsio import os_problem
from . import storage
from .incomplete import incomplete_note
from .journal import Journal, journal_generations
from .lock import LOCK_NAME, ProjectLock, holder_of
from .manifest import MANIFEST_NAME, Manifest
from .state import ProjectState
from .storage import INDEX_NAME, PREV_INDEX_NAME, Index

if TYPE_CHECKING:
    from .project import Project

LOCK_WAIT_S = 10.0  # how long a command waits for a project another process holds


class Opening(ProjectState):
    """The opening part of a Project (class methods that build one)."""

    @classmethod
    def open(cls, folder: str | Path, readonly: bool = False, drop_unreadable: bool = False) -> Project:
        """Open ``folder``; ``drop_unreadable`` (repair) forgets the tracks whose track file is lost instead of
        opening read-only, keeping a copy of the journal in journal/kept/."""
        folder = Path(folder).expanduser().absolute()
        if not folder.is_dir():
            raise ProjectError("no such project folder", folder)
        lock, holder, reason = None, None, "opened read-only on request"
        if not readonly:
            if not os.path.lexists(folder / MANIFEST_NAME):
                raise ProjectError("not an AffectTrace project (no project.json)", folder)
            try:
                lock, holder = ProjectLock.acquire(folder)
                reason = f"it is open elsewhere: held by {holder}"
            except ProjectError as e:
                cause = e.__cause__ if isinstance(e.__cause__, OSError) else OSError(0, e.problem)
                reason = not_writable(cause, e.path or folder)
            except OSError as e:
                if e.errno not in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT):
                    raise ProjectError(f"cannot lock the project: {os_problem(e)}", folder) from e
                reason = not_writable(e, folder / LOCK_NAME)
            readonly = lock is None
        else:
            holder = holder_of(folder)
        try:
            project = cls._load(folder, readonly, lock, holder, drop_unreadable)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        if project.readonly and project.readonly_reason is None:
            project.readonly_reason = reason
            if lock is None and holder is None and reason != "opened read-only on request":
                project.warnings.insert(0, f"opened read-only: {reason}")
        return project

    @classmethod
    def open_writable(cls, folder: str | Path, wait_s: float = LOCK_WAIT_S) -> Project:
        """Open for writing, or raise ProjectLockedError saying why it cannot be (held, read-only, disk full...).

        A project held by another process is waited for up to ``wait_s`` (a command started at the same
        moment as another finishes after it instead of failing).
        """
        deadline = time.monotonic() + wait_s
        while True:
            p = cls.open(project_folder(folder))
            if not p.readonly:
                return p
            reason, where, holder = p.readonly_reason, p.folder, p.lock_holder
            p.close()
            if holder is None or f"pid {os.getpid()} " in holder or time.monotonic() >= deadline:
                raise ProjectLockedError(f"cannot change the project (opened read-only): {reason}", where)
            time.sleep(0.2)

    @classmethod
    def _load(cls, folder: Path, readonly: bool, lock: ProjectLock | None, holder: str | None,
              drop_unreadable: bool = False) -> Project:
        manifest = Manifest.load(folder)
        warnings: list[str] = []
        index_ok, prev_gen = True, None
        try:
            index = storage.read_index(folder / INDEX_NAME)
        except ProjectError as e:
            if not (folder / PREV_INDEX_NAME).exists():
                if not (folder / INDEX_NAME).exists() and not storage.pack_files(folder):
                    index = Index(0, {})  # a hand-written manifest: no annotations yet
                    return cls._finish_load(folder, manifest, index, readonly, lock, holder, [], True, None,
                                            drop_unreadable)
                raise
            index = storage.read_index(folder / PREV_INDEX_NAME)  # its failure is the one to report
            index_ok = False
            warnings.append(f"{e}; using the previous generation {PREV_INDEX_NAME} and the journal")
        else:
            prev_gen = cls._prev_generation(folder)
        return cls._finish_load(folder, manifest, index, readonly, lock, holder, warnings, index_ok, prev_gen,
                                drop_unreadable)

    @classmethod
    def _finish_load(cls, folder: Path, manifest: Manifest, index: Index, readonly: bool, lock: ProjectLock | None,
                     holder: str | None, warnings: list[str], index_ok: bool, prev_gen: int | None,
                     drop_unreadable: bool = False) -> Project:
        p = cls(folder, manifest, index, readonly, lock, holder)
        p._index_ok, p._prev_gen = index_ok, (index.generation if not index_ok else prev_gen)
        p.warnings.extend(warnings)
        gens = [g for g in journal_generations(folder) if g >= index.generation]
        p._check_entries()
        bad = p._bad_packs(gens)
        if bad and drop_unreadable and not p.readonly:
            p._drop_tracks_in(bad)
        elif bad:
            first = next(iter(bad))
            p._hold_read_only(f"track file {first} {bad[first]}" + (f" (and {len(bad) - 1} more)" if len(bad) > 1
                              else "") + "; restore it (changing the project now could lose the labels and "
                              "journaled edits it holds), or give it up with `affecttrace project repair`")
        p._replay(gens)
        p.warnings.extend(f"video {name!r}: {problem}" for name, v in manifest.videos.items() for problem in v.problems)
        unfinished = incomplete_note(folder)
        if unfinished:
            p.warnings.append(unfinished)
        if not p.readonly:
            p._journal = Journal(folder, max(gens + [index.generation]))
            p._keep_unreplayed(gens)
            p._remove_leftovers()
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

    @staticmethod
    def _prev_generation(folder: Path) -> int | None:
        try:
            import h5py

            with h5py.File(folder / PREV_INDEX_NAME, "r", locking=False) as f:
                return int(f.attrs["generation"])
        except Exception:
            return None


def not_writable(e: OSError, path: Path) -> str:
    """Why a project cannot be written, in words: disk full, read-only file system, no permission."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({os_problem(e)}: cannot write {path})"
    if e.errno == errno.EROFS:
        return f"the file system is read-only (cannot write {path})"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"the folder is not writable ({os_problem(e)}: {path})"
    return f"cannot write {path} ({os_problem(e)})"


def project_folder(path: str | Path) -> Path:
    """A project's folder from the folder or its project.json."""
    p = Path(path).expanduser()
    return p.parent if p.name == MANIFEST_NAME and p.is_file() else p
