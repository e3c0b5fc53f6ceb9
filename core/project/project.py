"""The Project: a folder with a manifest, HDF5 annotations, an edit journal, caches and models.

Changes live in memory and in the journal until ``save()``; reopening after a crash replays the
journal silently. Tracks load lazily; ``save()`` writes only the tracks that changed.
"""
from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..edits import Edit, EditHistory, encode_values
from ..errors import ProjectError, ProjectLockedError
from ..events import Signal
from ..fsio import remove_quietly
from ..labels import AUSet
from ..labels import au_set as to_au_set
from ..safepaths import check_name
from ..tracks import Track, TrackKind, TrackSource
from . import storage
from .conform import conform_track
from .journal import JOURNAL_DIR, Journal
from .lanefiles import MAIN, is_human_of, project_lease_path
from .lanes import Foreign, Lanes, LaneState
from .lease import Lease, LeaseInfo, lease_state, new_session_id
from .lock import ProjectLock
from .manifest import MANIFEST_NAME, Manifest, VideoEntry
from .opening import Opening, project_folder
from .persist import Persistence
from .spooling import Spooling
from .stamps import Stamps
from .state import Key
from .storage import INDEX_NAME, TRACKS_DIR, Index, TrackEntry
from .videos import VideoOps


class Project(Opening, VideoOps, Stamps, Lanes, Spooling, Persistence):
    """Open with ``Project.open(folder)`` / ``open_project(path)``; make with ``Project.create(folder)``."""

    _adopting = False  # put_track is moving this annotator's track from the project store into their lane

    def __init__(self, folder: Path, manifest: Manifest, index: Index, readonly: bool,
                 lock: ProjectLock | None, lock_holder: str | None, root: Path | None = None,
                 lane: str | None = None, lease: Lease | None = None) -> None:
        self.folder = folder
        self.root = root or folder  # the store this session writes: the project's, or an annotator's lane
        self.lane = lane
        self.session = lease.info.session if lease is not None else new_session_id()
        self.holder_info: LeaseInfo | None = None  # who holds what this session could not take (lanes)
        self.offline_since: float | None = None  # the share went away or filled up: edits go to the spool
        self._lease = lease
        self._stores: dict[str, dict[Key, TrackEntry]] = {}
        self._seen: dict[str, LaneState] = {}
        self._foreign: dict[Key, Foreign] = {}
        self._foreign_names: dict[str, list[str]] = {}
        self._foreign_tracks: dict[Key, Track] = {}
        self._spool = None
        self._seq = 0
        self._activity: dict[str, dict[str, float]] = {}
        self._last_lease_check = 0.0
        self._rids: set[str] = set()
        self._vector: dict[str, int] = {}
        self._session_ids: list[str] = []
        self._stamps: dict[Key, dict[str, np.ndarray]] = {}
        self.manifest = manifest
        self.readonly = readonly
        self.lock_holder = lock_holder
        self.readonly_reason: str | None = None  # why writing is refused (held elsewhere, disk full, a file missing)
        self.warnings: list[str] = []  # what opening had to repair or skip (fallback, unreadable journal lines)
        self.recovered = 0  # journal records replayed at open
        self._skipped = 0  # journal records that could not be replayed
        self.changed = Signal()  # (video, track_name, task | None, start, stop); task None: whole track
        self.tracks_changed = Signal()  # (video,): a track was added, replaced or deleted
        self.videos_changed = Signal()  # (): videos or annotators changed
        self.history = EditHistory(self.apply, self.revert)
        self._lock = lock
        self._mutex = threading.RLock()
        self._index = index
        self._entries: dict[Key, TrackEntry] = dict(index.entries)
        self._tracks: dict[Key, Track] = {}
        self._dirty: set[Key] = set()
        self._unsynced_files: list[Path] = []
        self._manifest_dirty = False
        self._unsaved = False
        self._prev_gen: int | None = None
        self._prev_files: set[str | None] | None = None  # packs the previous generation uses (None: not read yet)
        self._index_ok = True
        self._journal: Journal | None = None
        self._closed = False
        self._load_stamp_meta()

    # ------------------------------------------------------------------ opening

    @classmethod
    def create(cls, folder: str | Path, name: str | None = None, au_set: AUSet | str = "affwild2-12") -> "Project":
        folder = Path(folder).expanduser().absolute()
        if (folder / MANIFEST_NAME).exists():
            raise ProjectError("already holds a project", folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for sub in (TRACKS_DIR, JOURNAL_DIR, "cache", "models"):
                (folder / sub).mkdir(exist_ok=True)
        except OSError as e:
            raise ProjectError(f"cannot create the project folder: {e.strerror or e}", folder) from e
        manifest = Manifest(name or folder.name, to_au_set(au_set), created=time.strftime("%Y-%m-%dT%H:%M:%S"))
        storage.write_index(folder / INDEX_NAME, Index(0, {}), keep_prev=False)
        manifest.save(folder)
        return cls.open(folder)

    # ------------------------------------------------------------------ manifest views

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def au_set(self) -> AUSet:
        return self.manifest.au_set

    @property
    def annotators(self) -> list[str]:
        return self.manifest.annotators

    @property
    def videos(self) -> dict[str, VideoEntry]:
        return self.manifest.videos

    @property
    def generation(self) -> int:
        """The saved generation the project stands on (grows by one per save)."""
        return self._index.generation

    @property
    def unsaved(self) -> bool:
        return self._unsaved

    @property
    def models_dir(self) -> Path:
        return self.folder / "models"

    def cache_dir(self, kind: str) -> Path:
        d = self.folder / "cache" / kind
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # a read-only medium: callers see the error when they write
        return d

    def _video(self, video: str) -> VideoEntry:
        try:
            return self.manifest.videos[video]
        except KeyError:
            raise ProjectError(f"no video {video!r} in the project", self.folder) from None

    # ------------------------------------------------------------------ tracks

    def track_names(self, video: str) -> list[str]:
        """This session's tracks of ``video``, then those of the other annotators and the project."""
        self._video(video)
        own = [n for (v, n) in self._entries if v == video]
        return own + [n for n in self._foreign_names.get(video, ()) if (video, n) not in self._entries]

    def has_track(self, video: str, name: str) -> bool:
        return (video, name) in self._entries or (video, name) in self._foreign

    def track_source(self, video: str, name: str) -> TrackSource:
        """Who made a track, without loading its arrays."""
        return self._entry(video, name).source

    def track_entry(self, video: str, name: str) -> TrackEntry:
        """Index data of a track (source, frames, labelled frames per task as of the last save)."""
        return self._entry(video, name)

    def _entry(self, video: str, name: str) -> TrackEntry:
        f = self._shadowing((video, name))
        if f is not None:
            return f.entry
        try:
            return self._entries[(video, name)]
        except KeyError:
            self._video(video)
            raise ProjectError(f"video {video!r} has no track {name!r}", self.folder) from None

    def track_path(self, video: str, name: str) -> Path:
        """The pack file holding a saved track, whichever store it is in."""
        key = (video, name)
        f = self._shadowing(key)
        e = self._entry(video, name)
        if e.file is None:
            raise ProjectError(f"track {video}/{name} has no saved data", self.folder)
        return (f.root if f is not None else self.root) / e.file

    def track(self, video: str, name: str) -> Track:
        """The track's arrays, read from HDF5 on first use and cached (the same object every call)."""
        key = (video, name)
        with self._mutex:
            f = self._shadowing(key)
            if f is not None:
                return self._foreign_track(key, f)
            return self._own_track(video, name)

    def _own_track(self, video: str, name: str) -> Track:
        """A track of the store this session writes (never another annotator's)."""
        key = (video, name)
        with self._mutex:
            t = self._tracks.get(key)
            if t is not None:
                return t
            try:
                e = self._entries[key]
            except KeyError:
                self._video(video)
                raise ProjectError(f"video {video!r} has no track {name!r}", self.folder) from None
            if e.file is None:  # cannot happen: an unsaved track stays loaded until saved
                raise ProjectError(f"track {video}/{name} has no saved data", self.folder)
            t = storage.read_track(self.root / e.file, e.group, video, name)
            self._tracks[key] = t
            return t

    def is_dirty(self, video: str, name: str) -> bool:
        """Changed since the last save (this session's own tracks only)."""
        return (video, name) in self._dirty

    def loaded(self, video: str, name: str) -> bool:
        return (video, name) in self._tracks or (video, name) in self._foreign_tracks

    def unload(self, video: str | None = None, name: str | None = None) -> None:
        """Drop cached arrays of saved, unchanged tracks (all, one video's, or one) to free memory."""
        with self._mutex:
            for key in list(self._tracks):
                if (video is None or key[0] == video) and (name is None or key[1] == name) \
                        and key not in self._dirty and self._entries[key].file:
                    del self._tracks[key]
            for key in list(self._foreign_tracks):
                if (video is None or key[0] == video) and (name is None or key[1] == name):
                    del self._foreign_tracks[key]

    def tracks_of_kind(self, video: str, kind: TrackKind) -> list[Track]:
        return [self.track(video, n) for n in self.track_names(video)
                if self._entry(video, n).source.kind == TrackKind(kind)]

    def new_track(self, video: str, name: str, source: TrackSource) -> Track:
        """An empty track (project AU set, video's frame count); a human source adds its annotator."""
        self._check_writable()
        entry = self._video(video)
        check_name(name, "track name", self.folder, ProjectError)
        with self._mutex:
            if self.has_track(video, name):
                raise ProjectError(f"video {video!r} already has a track {name!r}", self.folder)
            if self.lane is not None and not (source.kind == TrackKind.HUMAN and source.annotator == self.lane):
                raise ProjectError(f"track {name!r}: an annotator's session makes only that annotator's own "
                                   f"tracks ({self.lane}); other tracks are made by project commands", self.folder)
            if source.kind == TrackKind.HUMAN and source.annotator and source.annotator not in self.annotators:
                held = lease_state(project_lease_path(self.folder)) if self.lane is not None else None
                if held is None:
                    self.add_annotator(source.annotator)
                else:  # a lead's session holds the project: the lane lists its annotator anyway, and a later
                    # track adds them to project.json; never keep a person waiting for it
                    self.warnings.append(f"annotator {source.annotator} not added to the project's list yet: "
                                         f"the project is held by {held}")
            self._record({"op": "new_track", "video": video, "name": name, "source": source.to_dict(),
                          "n": entry.frame_count})
            track = self._new_track(video, name, source, entry.frame_count)
        self.tracks_changed.emit(video)
        return track

    def _new_track(self, video: str, name: str, source: TrackSource, n: int) -> Track:
        track = Track.empty(video, name, source, n, self.au_set)
        key = (video, name)
        self._entries[key] = TrackEntry.of(track, None)
        self._tracks[key] = track
        self._dirty.add(key)
        return track

    def conform(self, track: Track) -> Track:
        """``track`` padded or cut to its video's frame count, with AU columns mapped to the project's set."""
        return conform_track(track, self._video(track.video).frame_count, self.au_set.aus)

    def put_track(self, track: Track) -> None:
        """Add or replace a whole track (import, fusion, model output). Written to disk at once.

        The track must have its video's frame count and the project's AU set (see ``conform``);
        the project keeps the object: change it later only through ``apply``.
        """
        self._check_writable()
        entry = self._video(track.video)
        check_name(track.name, "track name", self.folder, ProjectError)
        if track.n_frames != entry.frame_count:
            raise ProjectError(f"track {track.name!r} has {track.n_frames} frames, video {track.video!r} has "
                               f"{entry.frame_count} (use Project.conform)", self.folder)
        if tuple(track.au_names) != self.au_set.aus:
            raise ProjectError(f"track {track.name!r} has AUs {', '.join(track.au_names)}, the project uses "
                               f"{', '.join(self.au_set.aus)} (use Project.conform)", self.folder)
        if self.lane is not None and not (track.source.kind == TrackKind.HUMAN
                                          and track.source.annotator == self.lane):
            with self.project_change() as p:  # fused and model tracks belong to the project's store
                p.put_track(track)
            return
        self._refuse_foreign((track.video, track.name), "replace")
        with self._mutex:
            rel = f"{TRACKS_DIR}/p{self._ensure_journal().generation:06d}-{secrets.token_hex(4)}.h5"
            (self.root / TRACKS_DIR).mkdir(exist_ok=True)
            # fsync'd by save(): the OS has it now, so kill -9 loses nothing; power loss may lose this put
            group = storage.write_pack(self.root / rel, [track], sync=False)[0]
            self._unsynced_files.append(self.root / rel)
            try:
                rec: dict[str, Any] = {"op": "put", "video": track.video, "name": track.name, "file": rel,
                                       "group": group}
                if self._adopting:
                    rec["adopt"] = True
                self._record(rec)
            except ProjectError:
                remove_quietly(self.root / rel)
                raise
            self._put(track, rel, group)
            if track.source.kind == TrackKind.HUMAN and track.source.annotator \
                    and track.source.annotator not in self.annotators:
                self.add_annotator(track.source.annotator)
        self.changed.emit(track.video, track.name, None, 0, track.n_frames)
        self.tracks_changed.emit(track.video)

    def _put(self, track: Track, rel: str, group: str) -> None:
        key = (track.video, track.name)
        self._entries[key] = TrackEntry.of(track, rel, group)
        self._tracks[key] = track
        self._dirty.discard(key)

    def delete_track(self, video: str, name: str) -> None:
        self._check_writable()
        self._entry(video, name)
        if self.lane is not None and (video, name) not in self._entries:
            self._refuse_foreign((video, name), "delete", lanes_only=True)
            with self.project_change() as p:
                p.delete_track(video, name)
            return
        self._refuse_foreign((video, name), "delete")
        with self._mutex:
            self._record({"op": "delete", "video": video, "name": name})
            self._forget((video, name))
        self.tracks_changed.emit(video)

    def _forget(self, key: Key) -> None:
        self._entries.pop(key, None)
        self._tracks.pop(key, None)
        self._dirty.discard(key)

    # ------------------------------------------------------------------ edits

    def apply(self, edit: Edit) -> None:
        """Apply an edit to its track and journal it (in the OS before this returns)."""
        self._check_writable()
        with self._mutex:
            track = self._edit_track(edit.video, edit.track)
            edit.apply(track)
            try:
                self._record({"op": "apply", "edit": edit.to_record()})
            except ProjectError:
                edit.revert(track)
                raise
            self._dirty.add((edit.video, edit.track))
        self.changed.emit(edit.video, edit.track, edit.task, edit.start, edit.stop)

    def revert(self, edit: Edit) -> None:
        """Undo an applied edit (restores the values it replaced) and journal that."""
        self._check_writable()
        if edit.old is None:
            raise RuntimeError("revert before apply")
        with self._mutex:
            track = self._edit_track(edit.video, edit.track)
            rows = track.array(edit.task)[edit.start:edit.stop].copy()
            edit.revert(track)
            try:
                self._record({"op": "revert", "edit": edit.to_record(), "old": encode_values(edit.old, edit.task)})
            except ProjectError:
                track.array(edit.task)[edit.start:edit.stop] = rows
                raise
            self._dirty.add((edit.video, edit.track))
        self.changed.emit(edit.video, edit.track, edit.task, edit.start, edit.stop)

    # ------------------------------------------------------------------ journal

    def _check_writable(self) -> None:
        if self._closed:
            raise ProjectError("project is closed", self.folder)
        self._check_lease()
        if self.readonly:
            raise ProjectLockedError(f"project is open read-only: {self.readonly_reason}", self.folder)

    def _record(self, rec: dict[str, Any]) -> None:
        rec["t"] = time.time()
        if self.lane is None:
            self._ensure_journal().append(rec)
        elif rec["op"] in ("video", "annotators"):
            self._project_record(rec)  # project-wide: made at once under the short project lease
            return
        else:
            self._lane_append(rec)
        self._unsaved = True

    def _edit_track(self, video: str, name: str) -> Track:
        """The track an edit may change: this session's own (adopting its annotator's track from the project
        store into the lane on first edit); another annotator's is refused."""
        key = (video, name)
        f = self._shadowing(key)
        if f is not None and self.lane is not None and f.owner == MAIN and is_human_of(f.entry, self.lane):
            self._adopting = True
            try:
                self.put_track(self._foreign_track(key, f).copy())
            finally:
                self._adopting = False
            f = None
        if f is not None:
            self._refuse_foreign(key, "change")
        track = self._own_track(video, name)
        if track.source.tool is not None:  # OpenFace / py-feat output: replaced by a new import, never edited
            raise ProjectError(f"track {video}/{name} is a read-only {track.source.tool} track; edit an annotator's "
                               "track (accept copies its labels there)", self.folder)
        return track

    def _refuse_foreign(self, key: Key, verb: str, lanes_only: bool = False) -> None:
        f = self._foreign.get(key)
        if f is None or f.owner == MAIN or (self.lane is not None and key in self._entries):
            return
        if lanes_only or self.lane is not None or f.owner:
            raise ProjectLockedError(f"cannot {verb} track {key[1]!r} of video {key[0]!r}: it is annotator "
                                     f"{f.owner}'s (only their own session changes it)", self.folder)

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Sync the journal and release the lock. Unsaved changes stay in the journal for the next open."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._journal is not None:
                self._journal.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            if self._lease is not None:
                self._lease.release()
                self._lease = None

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """Saves on a clean exit from ``with`` (writable projects); after an exception the journal keeps the work."""
        try:
            if exc_type is None and not self.readonly and not self._closed:
                self.save()
        finally:
            self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.readonly else "writable"
        return f"<Project {self.name!r} at {self.folder} ({len(self.videos)} videos, {mode})>"


def open_project(path: str | Path, readonly: bool = False) -> Project:
    """Open a project from its folder or its project.json."""
    return Project.open(project_folder(path), readonly=readonly)


def project_exists(path: str | Path) -> bool:
    p = Path(path)
    return (p / MANIFEST_NAME).is_file() or (p.name == MANIFEST_NAME and p.is_file())


__all__ = ["Project", "open_project", "project_exists", "VideoEntry"]
