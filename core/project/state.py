"""The typed contract between the parts of a Project.

``Project`` is built from ``Opening``, ``VideoOps`` (videos and annotators), ``Stamps`` (edit stamps),
``Lanes`` (the other stores, polling), ``Spooling`` (a lane's journal or the local spool) and ``Persistence``
(journal replay and saving). Each derives from ``ProjectState``, which declares with types the state they share and, as
abstract methods, the helpers of ``Project`` they call: a Project that lacks one cannot be made, and a
type checker sees every member the parts use.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..events import Signal
    from ..tracks import Track, TrackSource
    from .journal import Journal
    from .lease import Lease
    from .lock import ProjectLock
    from .manifest import Manifest, VideoEntry
    from .spool import Spool
    from .storage import Index, TrackEntry

Key = tuple[str, str]  # (video, track name)


class ProjectState(ABC):
    folder: Path
    root: Path  # the store this session writes: ``folder``, or an annotator's lane under team/
    lane: str | None
    session: str
    offline_since: float | None
    offline_reason: str | None
    _spool: Spool | None
    _rids: set[str]
    manifest: Manifest
    readonly: bool
    readonly_reason: str | None
    lock_holder: str | None
    warnings: list[str]
    recovered: int
    changed: Signal
    tracks_changed: Signal
    videos_changed: Signal
    _mutex: threading.RLock
    _index: Index
    _entries: dict[Key, TrackEntry]
    _tracks: dict[Key, Track]
    _dirty: set[Key]
    _unsynced_files: list[Path]
    _manifest_dirty: bool
    _unsaved: bool
    _skipped: int
    _prev_gen: int | None
    _prev_files: set[str | None] | None
    _index_ok: bool
    _journal: Journal | None
    _lock: ProjectLock | None
    _lease: Lease | None

    @abstractmethod
    def track(self, video: str, name: str) -> Track: ...

    @abstractmethod
    def _own_track(self, video: str, name: str) -> Track: ...

    @abstractmethod
    def _ensure_journal(self) -> Journal: ...

    @abstractmethod
    def _replay_one(self, rec: dict[str, Any]) -> None: ...

    @abstractmethod
    def _after_save(self, index: Index) -> None: ...

    @abstractmethod
    def reconnect(self) -> bool: ...

    @abstractmethod
    def _save_failed(self, e: BaseException) -> None: ...

    @abstractmethod
    def _noted(self, rec: dict[str, Any]) -> None: ...

    @abstractmethod
    def _note_stamp(self, rec: dict[str, Any]) -> None: ...

    @abstractmethod
    def _stamp_extras(self, keys: list[Key]) -> list[dict[str, Any]] | None: ...

    @abstractmethod
    def _stamp_meta(self) -> dict[str, Any]: ...

    @abstractmethod
    def _video(self, video: str) -> VideoEntry: ...

    @abstractmethod
    def _check_writable(self) -> None: ...

    @abstractmethod
    def _record(self, rec: dict[str, Any]) -> None: ...

    @abstractmethod
    def _new_track(self, video: str, name: str, source: TrackSource, n: int) -> Track: ...

    @abstractmethod
    def _put(self, track: Track, rel: str, group: str) -> None: ...

    @abstractmethod
    def _forget(self, key: Key) -> None: ...

    @abstractmethod
    def _drop_video(self, video: str) -> None: ...

    @abstractmethod
    def _hold_read_only(self, reason: str) -> None: ...
