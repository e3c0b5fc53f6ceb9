"""Journal replay and atomic saving: the Persistence part of a Project."""
from __future__ import annotations

import json
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from ..edits import Edit, decode_values
from ..errors import ProjectError
from ..fsio import fsync_file, os_problem, remove_quietly
from ..safepaths import check_name, excerpt
from ..tracks import TrackSource
from . import storage
from .journal import JOURNAL_DIR, Journal, journal_generations, journal_path, read_journal
from .manifest import VideoEntry
from .state import Key, ProjectState
from .storage import INDEX_NAME, PREV_INDEX_NAME, TRACKS_DIR, Index, TrackEntry

KEPT_DIR = "kept"  # journal/kept/: copies of journals whose records could not all be replayed
COMPACT_BELOW = 0.5  # a pack whose live share of frames falls below this is rewritten at the next save


class Persistence(ProjectState):
    """Journal replay and atomic saving of a Project."""

    def _bad_packs(self, generations: list[int]) -> dict[str, str]:
        """pack -> 'is missing' / 'is damaged (why)' for each pack the index or the journal needs."""
        needed = {e.file for e in self._entries.values() if e.file}
        for g in generations:
            needed |= _put_files(journal_path(self.root, g))
        out = {}
        for f in sorted(f for f in needed if _valid_pack(f)):
            problem = storage.pack_problem(self.root / f)
            if problem:
                out[f] = problem
        return out

    def _drop_tracks_in(self, bad: dict[str, str]) -> None:
        """Repair: forget the tracks held by unreadable packs; the journal is kept aside (edits on them too)."""
        for key, e in list(self._entries.items()):
            if e.file in bad:
                self._forget(key)
                self.warnings.append(f"dropped track {key[0]}/{key[1]}: its track file {e.file} {bad[e.file]}")
        self._skipped += 1  # the journal may hold edits of the dropped tracks: _keep_unreplayed copies it
        self._unsaved = self._manifest_dirty = True

    def _keep_unreplayed(self, generations: list[int]) -> None:
        """A journal with records that could not be replayed is copied aside before saves may delete it."""
        if not self._skipped:
            return
        kept = self.root / JOURNAL_DIR / KEPT_DIR
        stamp = time.strftime("%Y%m%d-%H%M%S")
        try:
            kept.mkdir(exist_ok=True)
            for g in generations:
                src = journal_path(self.root, g)
                if src.exists():
                    shutil.copyfile(src, kept / f"{src.stem}-{stamp}.jsonl")
        except OSError as e:
            self._hold_read_only(f"cannot keep a copy of the journal's unreplayable records in {kept} "
                                 f"({os_problem(e)})")
            return
        self.warnings.append(f"{self._skipped} journal record(s) could not be replayed; the journal is kept in "
                             f"{kept} for inspection")

    def _replay(self, generations: list[int]) -> None:
        """Bring the tracks up to the journal, silently; what cannot be replayed is noted in ``warnings``."""
        skipped = 0
        for g in generations:
            path = journal_path(self.root, g)
            records, bad = read_journal(path)
            if bad:
                self.warnings.append(f"{path}: {bad} unreadable journal line(s) skipped")
            for rec in records:
                rid = rec.get("rid")
                if rid is not None:
                    if rid in self._rids:
                        continue  # a spooled edit that reached the journal twice (crash while replaying it)
                    self._rids.add(rid)
                try:
                    self._replay_one(rec)
                    self._noted(rec)
                    self.recovered += 1
                except (ProjectError, KeyError, IndexError, ValueError, TypeError, RuntimeError) as e:
                    skipped += 1
                    if skipped <= 5:
                        self.warnings.append(f"{path}: skipped journal record {excerpt(rec.get('op'))}: {e}")
        self._skipped += skipped
        if self.recovered:
            self._unsaved = True
            self._manifest_dirty = True

    def _replay_one(self, rec: dict[str, Any]) -> None:
        op = rec["op"]
        if op in ("apply", "revert"):
            e = rec["edit"]
            if (e["video"], e["track"]) not in self._entries:
                return  # its video or track was removed later in the journal
            edit = Edit.from_record(e)
            track = self._own_track(edit.video, edit.track)
            if op == "apply":
                edit.apply(track)
            else:
                edit.old = decode_values(rec["old"], edit.task)
                edit.revert(track)
            self._dirty.add((edit.video, edit.track))
        elif op == "new_track":
            self._forget((rec["video"], rec["name"]))
            self._video(rec["video"])
            check_name(rec["name"], "track name", None, ProjectError)
            self._new_track(rec["video"], rec["name"], TrackSource.from_dict(rec["source"]), int(rec["n"]))
        elif op == "put":
            track = storage.read_track(self.root / storage.pack_rel(rec["file"]), rec.get("group", "/t0"),
                                       rec["video"], rec["name"])
            self._video(track.video)
            check_name(track.name, "track name", None, ProjectError)
            self._put(track, rec["file"], rec.get("group", "/t0"))
        elif op == "delete":
            self._forget((rec["video"], rec["name"]))
        elif op == "video":
            if rec["entry"] is None:
                self._drop_video(rec["name"])
            else:
                self.manifest.videos[rec["name"]] = VideoEntry.from_dict(rec["name"], rec["entry"])
        elif op == "annotators":
            self.manifest.annotators[:] = [check_name(a, "annotator name", None, ProjectError) for a in rec["list"]]
        else:
            raise ValueError(f"unknown journal operation {op!r}")

    # ------------------------------------------------------------------ saving

    def save(self) -> None:
        """Write what changed, atomically: a failure (disk full...) raises ProjectError naming the file and
        leaves the previous save readable and the journal in place."""
        self._check_writable()
        if self.offline_since is not None and not self.reconnect():
            raise ProjectError(f"cannot save: the project folder is unreachable since "
                               f"{time.strftime('%H:%M:%S', time.localtime(self.offline_since))} "
                               f"({self.offline_reason}); edits are kept in the local spool "
                               f"{self._spool.path if self._spool else ''}", self.root)
        with self._mutex:
            if not self._unsaved and not self._dirty:
                return
            journal = self._ensure_journal()
            new_gen = max([self._index.generation, journal.generation] + journal_generations(self.root)) + 1
            keys = [k for k in self._entries if k in self._dirty] + self._compaction_keys()
            was_loaded = set(self._tracks)
            tracks = [self._own_track(*k) for k in keys]
            entries = dict(self._entries)
            referenced = {e.file for e in entries.values()}
            packs = {f: n for f, n in self._index.packs.items() if f in referenced}
            written: list[Path] = []
            try:
                if tracks:
                    rel = f"{TRACKS_DIR}/g{new_gen:06d}-{secrets.token_hex(4)}.h5"
                    (self.root / TRACKS_DIR).mkdir(exist_ok=True)
                    written.append(self.root / rel)
                    groups = storage.write_pack(self.root / rel, tracks, extras=self._stamp_extras(keys))
                    for key, track, group in zip(keys, tracks, groups):
                        entries[key] = TrackEntry.of(track, rel, group)
                    packs[rel] = sum(max(t.n_frames, 1) for t in tracks)
                for f in self._unsynced_files:
                    if f.exists():
                        fsync_file(f)
                storage.sync_tracks_dir(self.root)
                journal.sync()
                if self._manifest_dirty and self.lane is None:  # a lane never writes project.json
                    self.manifest.save(self.folder)
                index = Index(new_gen, entries, packs=packs, meta=self._stamp_meta())
                storage.write_index(self.root / INDEX_NAME, index, keep_prev=self._index_ok)
            except ProjectError as e:
                for f in written:
                    remove_quietly(f)
                self._save_failed(e)
                raise
            except OSError as e:
                for f in written:
                    remove_quietly(f)
                self._save_failed(e)
                where = getattr(e, "filename", None) or self.root
                raise ProjectError(f"cannot save: {e.strerror or e}", where) from e
            # committed: annotations.h5 is generation new_gen
            if self._index_ok:
                self._prev_gen = self._index.generation
                self._prev_files = {e.file for e in self._index.entries.values()}
            self._index_ok = True
            self._index = index
            self._entries = entries
            self._dirty.difference_update(keys)
            self._unsynced_files.clear()
            self._manifest_dirty = False
            self._unsaved = False
            for key in set(keys) - was_loaded:  # loaded only to move them out of a mostly dead pack
                self._tracks.pop(key, None)
            self._journal = None
            journal.close()
            self._ensure_journal()
            try:
                self._after_save(index)
            except ProjectError as e:  # saved; only others' polling misses it until the next save
                self.warnings.append(f"saved, but could not publish the new generation: {e}")
            self._collect_garbage()

    def _ensure_journal(self) -> Journal:
        """The journal of the current generation, opened again after a save whose rotation failed."""
        if self._journal is None or self._journal.generation < self._index.generation:
            self._journal = Journal(self.root, self._index.generation)
        return self._journal

    def _compaction_keys(self) -> list[Key]:
        """Live tracks of packs that are mostly superseded copies are rewritten, so the pack can go."""
        live: dict[str, int] = {}
        for key, e in self._entries.items():
            if e.file in self._index.packs and key not in self._dirty:
                live[e.file] = live.get(e.file, 0) + max(e.n_frames, 1)
        out: list[Key] = []
        for f, held in self._index.packs.items():
            if 0 < live.get(f, 0) < COMPACT_BELOW * held:
                out.extend(k for k, e in self._entries.items() if e.file == f and k not in self._dirty)
        return out

    def _collect_garbage(self) -> None:
        """Delete journals and packs nothing can need: not the current index, the previous one, nor
        the journals kept to replay onto the previous one."""
        keep_from = self._prev_gen if self._prev_gen is not None else self._index.generation
        for g in journal_generations(self.root):
            if g < keep_from:
                remove_quietly(journal_path(self.root, g))
        referenced: set[str | None] = {e.file for e in self._entries.values() if e.file}
        if self._prev_files is None and (self.root / PREV_INDEX_NAME).exists():
            try:  # once per session; later saves know it from the index they replaced
                prev = storage.read_index(self.root / PREV_INDEX_NAME)
                self._prev_files = {e.file for e in prev.entries.values()}
            except ProjectError:
                return  # unsure what the previous generation needs: keep everything
        referenced |= self._prev_files or set()
        for g in journal_generations(self.root):
            referenced |= _put_files(journal_path(self.root, g))
        for f in storage.pack_files(self.root):
            if f"{TRACKS_DIR}/{f.name}" not in referenced:
                remove_quietly(f)

    def _remove_leftovers(self) -> None:
        """Temporary files of saves that crashed."""
        for d in (self.root, self.root / TRACKS_DIR):
            for pattern in (".*.tmp", ".*.link"):
                for f in d.glob(pattern) if d.is_dir() else ():
                    remove_quietly(f)


def _valid_pack(rel: str) -> bool:
    try:
        storage.pack_rel(rel)
        return True
    except ValueError:
        return False


def _put_files(path: Path) -> set[str]:
    try:
        raw = path.read_bytes()
    except OSError:
        return set()
    out = set()
    for line in raw.split(b"\n"):
        if b'"op":"put"' in line:
            try:
                out.add(json.loads(line)["file"])
            except (ValueError, KeyError):
                pass
    return out

