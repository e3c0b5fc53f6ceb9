"""Annotator lanes: many writers in one project folder, each writing only its own files.

    folder/team/<annotator>/      the annotator's lane: a store of the same format as the project's
        annotations.h5, tracks/, journal/     (their tracks, their journal of unsaved edits)
        head.json                  pointer rewritten (atomic rename) after each save: generation, saved_at
        activity.json              time spent and edits per video
        lane.lease (+ .beat-*)     the annotating session's lease (core.project.lease)
    folder/leases/project.lease    the short project lease for project-wide changes
    folder/head.json               the project store's pointer (its generation, a stamp of project.json)

A Project sees its own store plus, read-only, the other stores ("foreign" tracks); ``poll_changes``
picks up what others saved by reading the small head.json pointers. A reader never sees a half-written
generation: packs are fsync'd before the index that names them is renamed into place, and the head
after that; packs stay until two generations later. The folder layout and its small files are
core.project.lanefiles; journaling through the local spool while the share is away, core.project.spooling.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..errors import ProjectError
from ..tracks import Track
from . import storage
from .lanefiles import (
    ACTIVITY_NAME,
    HEAD_NAME,
    LANE_LEASE,
    MAIN,
    index_generation,
    lane_names,
    lane_root,
    read_head,
    read_json,
    read_store,
    write_json,
)
from .lease import EXPIRE_S, Lease, LeaseInfo, Watch, host_name
from .manifest import MANIFEST_NAME, Manifest
from .state import Key, ProjectState
from .storage import Index, TrackEntry

if TYPE_CHECKING:
    from .project import Project

IDLE_GAP_S = 60.0  # edits further apart than this are separate sittings: the gap is not time spent


@dataclass
class Foreign:
    """A track of another store: read-only here."""

    owner: str  # annotator of the lane, or MAIN
    root: Path
    entry: TrackEntry


@dataclass
class LaneState:
    """What this session knows of one store (another annotator's lane, or the project's own store)."""

    owner: str
    head: tuple[Any, ...] | None = None  # (generation, saved_at, session) as last read
    generation: int | None = None
    saved_at: float | None = None  # the writer's wall clock: shown as a date, never compared across hosts
    seen_at: float | None = None  # this host's time.time() when this session first saw that generation
    watch: Watch | None = None


@dataclass(frozen=True)
class Annotator:
    """One annotator as the team view shows them."""

    name: str
    generation: int | None  # their last saved generation (None: never saved)
    saved_at: float | None  # when they saved it, by their workstation's clock
    seen_at: float | None  # when this session saw it appear (this host's clock; None: before this session)
    holder: LeaseInfo | None  # the session holding their lane now, if any
    online: bool  # that session's heartbeat is moving (or not yet watched long enough to say it stopped)

    def last_saved_ago(self, now: float | None = None) -> float | None:
        """Seconds since their last save, from this host's clock where it could be (no skew), else theirs."""
        now = time.time() if now is None else now
        when = self.seen_at if self.seen_at is not None else self.saved_at
        return None if when is None else max(0.0, now - when)


Change = tuple[str, str, str]  # (owner: annotator or "" for the project store, video, track)
Head = tuple[Any, ...]  # (generation, saved_at, session, manifest stamp) of a store's head.json


@dataclass
class Fresh:
    """What the other stores saved, as ``read_fresh`` read it from the share (in the app off the GUI thread,
    where a hung share may block for minutes); ``poll_changes(fresh)`` applies it without another read."""

    base: dict[str, Head | None]  # each store's head as this session knew it when the reading began
    heads: dict[str, Head | None]  # ... as read then (every store: the project's and the other lanes)
    stores: dict[str, dict[Key, TrackEntry] | None] = field(default_factory=dict)  # stores whose head moved
    manifest: Manifest | None = None  # project.json again, when the project store's head names a new one
    manifest_error: str | None = None
    # changed tracks of the videos asked for, read ahead: (owner, key, pack file, group) -> track
    tracks: dict[tuple[str, Key, str | None, str], Track] = field(default_factory=dict)

    @property
    def moved(self) -> bool:
        """Has another store saved since this session last applied what it read?"""
        return any(h != self.base.get(o) for o, h in self.heads.items())


class Lanes(ProjectState):
    """The team part of a Project: own lane, the other stores seen read-only, polling, project-wide changes,
    activity and the head pointer."""

    lane: str | None  # the annotator whose lane this session writes; None: the project's own store
    root: Path
    session: str
    holder_info: LeaseInfo | None
    offline_since: float | None
    _lease: Lease | None
    _stores: dict[str, dict[Key, TrackEntry]]
    _seen: dict[str, LaneState]
    _foreign: dict[Key, Foreign]
    _foreign_names: dict[str, list[str]]  # video -> names of its foreign tracks
    _foreign_tracks: dict[Key, Track]
    _activity: dict[str, dict[str, float]]
    _rids: set[str]

    # ------------------------------------------------------------------ what others saved

    def _store_root(self, owner: str) -> Path:
        return self.folder if owner == MAIN else lane_root(self.folder, owner)

    def _other_stores(self) -> list[str]:
        return ([MAIN] if self.lane is not None else []) + [a for a in lane_names(self.folder) if a != self.lane]

    def _load_stores(self) -> None:
        """Read every other store's index (at open); what changes later comes through ``poll_changes``."""
        for owner in self._other_stores():
            self._refresh_store(owner, initial=True)
        self._rebuild_foreign()

    def _head_of(self, owner: str) -> tuple[Any, ...] | None:
        root = self._store_root(owner)
        head = read_head(root)
        if head is not None:
            return (head.get("generation"), head.get("saved_at"), head.get("session"), head.get("manifest"))
        gen = index_generation(root)
        return None if gen is None else (gen, None, None, None)

    def _refresh_store(self, owner: str, initial: bool = False, fresh: Fresh | None = None) -> list[Change]:
        state = self._seen.setdefault(owner, LaneState(owner))
        if fresh is not None:
            if state.head != fresh.base.get(owner):
                return []  # read again meanwhile (a track read found its pack gone): the next poll catches up
            head = fresh.heads.get(owner)
        else:
            head = self._head_of(owner)
        if head == state.head and not initial:
            return []
        manifest_moved = state.head is not None and head is not None and head[3] != state.head[3]
        state.head = head
        if head is not None:
            state.generation = head[0] if isinstance(head[0], int) else None
            state.saved_at = head[1] if isinstance(head[1], (int, float)) else None
            if not initial:
                state.seen_at = time.time()
        old = self._stores.get(owner, {})
        if head is None:
            got: dict[Key, TrackEntry] | None = {}
        else:
            got = fresh.stores.get(owner) if fresh is not None else read_store(self._store_root(owner))
        if got is None:
            state.head = None  # try again at the next poll
            if not initial:
                return []
            got = {}
        new = got
        self._stores[owner] = new
        if owner == MAIN and manifest_moved:
            self._reload_manifest(fresh)
        return [(owner, v, n) for (v, n) in set(old) | set(new)
                if (old.get((v, n)) is None) != (new.get((v, n)) is None)
                or (old[(v, n)].file, old[(v, n)].group) != (new[(v, n)].file, new[(v, n)].group)]

    def _reload_manifest(self, read: Fresh | None = None) -> None:
        try:
            if read is not None and read.manifest_error is not None:
                raise ProjectError(read.manifest_error)
            fresh = read.manifest if read is not None and read.manifest is not None \
                else Manifest.load(self.folder, settle=True)
        except ProjectError as e:
            self.warnings.append(f"could not re-read the project's videos: {e}")
            return
        with self._mutex:
            self.manifest.videos.clear()
            self.manifest.videos.update(fresh.videos)
            self.manifest.annotators[:] = fresh.annotators
            self.manifest.extra = fresh.extra
        self.videos_changed.emit()

    def _rebuild_foreign(self) -> None:
        """Which store each foreign track comes from: lanes over the project store, a lane named after
        the track over other lanes."""
        out: dict[Key, Foreign] = {}
        for owner in sorted(self._stores, key=lambda o: (o != MAIN, o)):
            root = self._store_root(owner)
            for key, e in self._stores[owner].items():
                if key in out and out[key].owner != MAIN and out[key].owner == key[1]:
                    continue
                out[key] = Foreign(owner, root, e)
        self._foreign = out
        by_video: dict[str, list[str]] = {}
        for v, n in out:
            by_video.setdefault(v, []).append(n)
        self._foreign_names = by_video

    def read_fresh(self, videos: Iterable[str] = (), check_lease: bool = False) -> Fresh:
        """Read what the other stores saved since the last ``poll_changes``, changing nothing here but the
        lease's verdict (``check_lease``): the head pointers, the indexes of the stores that moved, project.json
        when it changed, and the changed tracks of ``videos``. Safe off the GUI thread while the GUI thread
        uses the project: the app reads here and hands the result to ``poll_changes``."""
        seen = dict(self._seen)
        heads = {o: self._head_of(o) for o in self._other_stores()}
        fresh = Fresh({o: (seen[o].head if o in seen else None) for o in heads}, heads)
        wanted = set(videos)
        for owner, head in heads.items():
            base = fresh.base[owner]
            if head == base or head is None:
                continue
            root = self._store_root(owner)
            got = fresh.stores[owner] = read_store(root)
            if owner == MAIN and base is not None and head[3] != base[3]:
                try:
                    fresh.manifest = Manifest.load(self.folder, settle=True)
                except ProjectError as e:
                    fresh.manifest_error = str(e)
            old = self._stores.get(owner, {})
            for key, entry in (got or {}).items():
                was = old.get(key)
                if key[0] in wanted and (was is None or (was.file, was.group) != (entry.file, entry.group)):
                    pack = root / entry.file if entry.file else root
                    try:
                        track = storage.read_track(pack, entry.group, key[0], key[1])
                    except ProjectError:
                        continue  # read again when it is shown
                    fresh.tracks[(owner, key, entry.file, entry.group)] = track
        if check_lease and self._lease is not None and self._lease.lost is None:
            self._lease.check()
        return fresh

    def poll_changes(self, fresh: Fresh | None = None) -> list[Change]:
        """What others saved since the last call: (owner, video, track) per changed, added or removed track.

        Cheap (one listing of team/ and one small head.json per annotator), so call it every 1-2 s. With
        ``fresh`` (from ``read_fresh``) it reads nothing from the share but the spool's way back; the lease is
        then judged as ``read_fresh`` left it. The arrays of changed tracks are dropped and read again on next
        use, unless ``fresh`` read them ahead; ``changed``/``tracks_changed`` fire for them. While the share is
        away this also tries to reconnect (see ``offline_since``).
        """
        if self.offline_since is not None:
            self.reconnect()
        elif self._lease is not None and (self._lease.lost is not None
                                          or (fresh is None and not self._lease.check())):
            # (the heartbeat thread may have found it lost first)
            self._hold_read_only(f"this session no longer holds the lane: {self._lease.lost}")
        if fresh is None:
            fresh = self.read_fresh()
        changes: list[Change] = []
        for owner in fresh.heads:
            try:
                changes += self._refresh_store(owner, fresh=fresh)
            except ProjectError as e:  # a half-visible store on a flaky share: try again next poll
                self.warnings.append(str(e))
        if changes:
            with self._mutex:
                self._rebuild_foreign()
                for _, v, n in changes:
                    self._foreign_tracks.pop((v, n), None)
                    f = self._foreign.get((v, n))
                    ahead = fresh.tracks.get((f.owner, (v, n), f.entry.file, f.entry.group)) if f else None
                    if ahead is not None:
                        self._foreign_tracks[(v, n)] = ahead
            for video in sorted({v for _, v, _ in changes}):
                self.tracks_changed.emit(video)
            for _, v, n in changes:
                f = self._foreign.get((v, n))
                if f is not None:
                    self.changed.emit(v, n, None, 0, f.entry.n_frames)
        return changes

    def annotators_now(self) -> list[Annotator]:
        """Every annotator of the project with their last save and whether a session holds their lane."""
        names = list(dict.fromkeys(list(self.manifest.annotators) + lane_names(self.folder)))
        out = []
        for name in names:
            if name == self.lane:
                head = read_head(self.root) or {}
                holder = self._lease.info if self._lease is not None and not self._lease.lost else None
                out.append(Annotator(name, head.get("generation"), head.get("saved_at"), self._saved_here,
                                     holder, holder is not None))
                continue
            state = self._seen.setdefault(name, LaneState(name))
            if state.watch is None:
                state.watch = Watch(lane_root(self.folder, name) / LANE_LEASE)
            info, dead = state.watch.look()
            out.append(Annotator(name, state.generation, state.saved_at, state.seen_at, info,
                                 info is not None and not dead))
        return out

    _saved_here: float | None = None

    # ------------------------------------------------------------------ reading foreign tracks

    def _shadowing(self, key: Key) -> Foreign | None:
        f = self._foreign.get(key)
        if f is None or (self.lane is not None and key in self._entries):
            return None
        return f

    def _foreign_track(self, key: Key, f: Foreign) -> Track:
        t = self._foreign_tracks.get(key)
        if t is not None:
            return t
        path = f.root / f.entry.file if f.entry.file else f.root
        try:
            t = storage.read_track(path, f.entry.group, key[0], key[1])
        except ProjectError:
            # that store saved twice since we read its index and its old pack is gone: read it again
            if not self._refresh_store(f.owner):
                raise
            self._rebuild_foreign()
            f = self._foreign.get(key) or f
            t = storage.read_track(f.root / str(f.entry.file), f.entry.group, key[0], key[1])
        self._foreign_tracks[key] = t
        return t

    def owner_of(self, video: str, name: str) -> str | None:
        """The annotator whose lane holds a track; "" for the project's store; None: this session's own."""
        key = (video, name)
        f = self._shadowing(key)
        if f is not None:
            return f.owner
        return None if key in self._entries else ""

    # ------------------------------------------------------------------ project-wide changes

    @contextmanager
    def project_change(self, wait_s: float = EXPIRE_S + 3.0) -> Iterator["Project"]:
        """A short project lease: the project store opened for writing (waiting up to ``wait_s`` for
        another change to end), yielded, saved and closed; then this session re-reads what changed."""
        from .project import Project

        p = Project.open_writable(self.folder, wait_s=wait_s)
        try:
            yield p
            p.save()
        finally:
            p.close()
        if self.lane is not None:
            self.poll_changes()

    def _project_record(self, rec: dict[str, Any]) -> None:
        """Make a project-wide change (a video, the annotator list) from a lane session."""
        rec = dict(rec)
        with self.project_change() as p:
            if rec["op"] == "annotators":  # add to the list as it is now, not as this session last read it
                rec["list"] = p.annotators + [a for a in rec["list"] if a not in p.annotators]
            p._replay_one(dict(rec))
            p._record(dict(rec))
            p._manifest_dirty = True

    # ------------------------------------------------------------------ activity and the head pointer

    def _noted(self, rec: dict[str, Any]) -> None:
        """A lane record is in: count its time, stamp its frames."""
        if self.lane is not None:
            self._account(rec)
            self._note_stamp(rec)

    def _account(self, rec: dict[str, Any]) -> None:
        """Time spent per video: the gaps between one's edits, where shorter than IDLE_GAP_S."""
        if rec.get("op") not in ("apply", "revert"):
            return
        video, t = str(rec["edit"]["video"]), float(rec.get("t", 0.0))
        a = self._activity.setdefault(video, {"seconds": 0.0, "edits": 0, "last": 0.0})
        gap = t - a["last"]
        if 0 < gap < IDLE_GAP_S:
            a["seconds"] += gap
        a["edits"] += 1
        a["last"] = max(a["last"], t)

    def _load_activity(self) -> None:
        d = read_json(self.root / ACTIVITY_NAME) or {}
        videos = d.get("videos", {})
        if isinstance(videos, dict):
            for v, a in videos.items():
                if isinstance(a, dict):
                    self._activity[str(v)] = {k: float(a.get(k, 0.0)) for k in ("seconds", "edits", "last")}

    def _after_save(self, index: Index) -> None:
        """Publish the saved generation: activity (lanes), then the head pointer others poll."""
        stamp = None
        if self.lane is not None:
            write_json(self.root / ACTIVITY_NAME, {"annotator": self.lane, "videos": self._activity})
        else:
            try:
                st = os.stat(self.folder / MANIFEST_NAME)
                stamp = f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}"
            except OSError:
                stamp = None
        write_json(self.root / HEAD_NAME, {"generation": index.generation, "saved_at": index.saved_at,
                                           "session": self.session, "host": host_name(), "manifest": stamp})
        self._saved_here = time.time()
