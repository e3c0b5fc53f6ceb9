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
after that; packs stay until two generations later.
"""
from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..errors import ProjectError, ProjectLockedError
from ..fsio import atomic_write_bytes, open_regular, os_problem, read_regular
from ..safepaths import name_problem
from ..tracks import Track, TrackKind
from . import storage
from .lease import EXPIRE_S, Lease, LeaseInfo, Watch, host_name
from .manifest import MANIFEST_NAME, Manifest
from .spool import Spool
from .state import Key, ProjectState
from .storage import INDEX_NAME, Index, TrackEntry

if TYPE_CHECKING:
    from .project import Project

TEAM_DIR = "team"
LEASES_DIR = "leases"
PROJECT_LEASE = "project.lease"
LANE_LEASE = "lane.lease"
HEAD_NAME = "head.json"
ACTIVITY_NAME = "activity.json"
TAKEOVERS_NAME = "takeovers.jsonl"
MAIN = ""  # the owner name of the project's own store among the stores a Project sees
IDLE_GAP_S = 60.0  # edits further apart than this are separate sittings: the gap is not time spent
LEASE_CHECK_S = 0.5  # a writer re-reads its lease file at most this often before journaling


def lane_root(folder: Path, annotator: str) -> Path:
    return folder / TEAM_DIR / annotator


def project_lease_path(folder: Path) -> Path:
    return folder / LEASES_DIR / PROJECT_LEASE


def lane_names(folder: Path) -> list[str]:
    """Annotators with a lane folder (one listing: cheap enough for every poll)."""
    try:
        entries = list(os.scandir(folder / TEAM_DIR))
    except OSError:
        return []
    return sorted(e.name for e in entries if not e.name.startswith(".") and name_problem(e.name) is None
                  and e.is_dir(follow_symlinks=False))  # a link planted there is never read as a lane


def read_json(path: Path, limit: int = 1 << 24) -> dict[str, Any] | None:
    """A small JSON object file, or None when absent, unreadable or not an object."""
    if not os.path.lexists(path):
        return None
    try:
        d = json.loads(read_regular(path, ProjectError, limit=limit))
    except (ProjectError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def read_head(root: Path) -> dict[str, Any] | None:
    return read_json(root / HEAD_NAME, 65536)


def write_json(path: Path, d: dict[str, Any]) -> None:
    atomic_write_bytes(path, json.dumps(d, separators=(",", ":")).encode())


def index_generation(root: Path, name: str = INDEX_NAME) -> int | None:
    """The generation of a store's index file without reading its table (stores made before head.json)."""
    try:
        import h5py

        with h5py.File(root / name, "r", locking=False) as f:
            return int(f.attrs["generation"])
    except Exception:
        return None


def read_store(root: Path) -> dict[Key, TrackEntry] | None:
    """A store's saved tracks ({} when it has none yet); None when its index cannot be read right now (a
    save replacing it seen through a share's caches): the caller keeps what it had and asks again."""
    if not os.path.lexists(root / INDEX_NAME):
        return {}
    try:
        return dict(storage.read_index(root / INDEX_NAME).entries)
    except ProjectError:
        return None


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
    """The team part of a Project: own lane, the other stores seen read-only, polling, spool, leases."""

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
    _spool: Spool | None
    _seq: int
    _activity: dict[str, dict[str, float]]
    _last_lease_check: float
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

    # ------------------------------------------------------------------ journaling with a spool

    def _lane_append(self, rec: dict[str, Any]) -> None:
        """Journal a lane record; when the share is away or full, into the local spool instead."""
        self._seq += 1
        rec["rid"] = f"{self.session}:{self._seq}"
        if self.offline_since is None:
            try:
                if self._journal is None:  # never make the lane's folders again where the share was
                    why = lane_is_reachable(self.root)
                    if why is not None:
                        raise ProjectError(f"cannot journal the edit: {why}", self.root)
                self._ensure_journal().append(rec)
                self._noted(rec)
                return
            except (ProjectError, OSError) as e:
                self._go_offline(e)
        assert self._spool is not None
        self._spool.append(rec)
        self._noted(rec)

    def _go_offline(self, why: BaseException) -> None:
        self.offline_since = time.time()
        self.offline_reason = str(why)
        if self._journal is not None:
            try:
                self._journal.close()
            except (ProjectError, OSError):
                pass
            self._journal = None

    offline_reason: str | None = None

    def _save_failed(self, e: BaseException) -> None:
        """A lane whose folder cannot be written any more (the share went away) goes on into the spool."""
        if self.lane is not None and self.offline_since is None and lane_is_reachable(self.root) is not None:
            self._go_offline(e)

    def reconnect(self) -> bool:
        """Back online? Moves the spooled edits into the lane's journal once the share answers again."""
        if self.offline_since is None:
            return True
        if self._lease is not None:
            self._lease.check()
            if self._lease.lost:
                self._hold_read_only(f"this session lost the lane while the share was away ({self._lease.lost}); "
                                     f"the edits made meanwhile stay in {self._spool.path if self._spool else '?'}"
                                     " and are replayed the next time this annotator opens the project here")
                return False
        if lane_is_reachable(self.root) is not None or not os.path.lexists(self.folder / MANIFEST_NAME):
            return False
        try:
            journal = self._ensure_journal()
            assert self._spool is not None
            for rec in self._spool.records():
                journal.append(rec)
            journal.sync()
        except (ProjectError, OSError):
            self._journal = None
            return False
        self._spool.clear()
        self.offline_since = None
        self.offline_reason = None
        return True

    def _replay_spool(self) -> None:
        """Edits spooled by an earlier session of this annotator on this host that never reached the share:
        applied now, and moved into the lane's journal (or kept in the spool while the share stays full)."""
        if self._spool is None:
            return
        records = [r for r in self._spool.records() if r.get("rid") not in self._rids]
        if not records:
            self._spool.clear()
            return
        done = 0
        for rec in records:
            try:
                self._replay_one(rec)
                self._noted(rec)
                done += 1
            except (ProjectError, KeyError, IndexError, ValueError, TypeError) as e:
                self.warnings.append(f"{self._spool.path}: skipped a spooled edit: {e}")
        self._unsaved = True
        try:
            journal = self._ensure_journal()
            for rec in records:
                journal.append(rec)
            journal.sync()
        except (ProjectError, OSError) as e:
            self._go_offline(e)  # the spool keeps them all until the share takes them
            self.warnings.append(f"{done} edit(s) from {self._spool.path} are applied; the share cannot take "
                                 f"them yet ({e})")
            return
        self._spool.clear()
        self.warnings.append(f"{done} edit(s) made while the share was away were replayed from {self._spool.path}")

    def _check_lease(self) -> None:
        """Before writing: refuse once another session took this lane over."""
        lease = self._lease
        if lease is None or self.offline_since is not None:
            return
        now = time.monotonic()
        if lease.lost is None and now - self._last_lease_check >= LEASE_CHECK_S:
            self._last_lease_check = now
            lease.check()
        if lease.lost is not None:
            self._hold_read_only(f"this session no longer holds the lane: {lease.lost}")
            raise ProjectLockedError(f"project is open read-only: {self.readonly_reason}", self.folder)

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


def lane_is_reachable(root: Path) -> str | None:
    """None when the lane folder can be written now; else why not (for the offline banner)."""
    probe = root / f".probe-{os.getpid()}"
    try:
        fd = open_regular(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, error=ProjectError)
        os.close(fd)
        os.unlink(probe)
    except ProjectError as e:
        return e.problem
    except OSError as e:
        return os_problem(e)
    return None


def is_human_of(entry: TrackEntry, annotator: str) -> bool:
    return entry.source.kind == TrackKind.HUMAN and entry.source.annotator == annotator
