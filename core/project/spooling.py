"""Journaling a lane when the share may be away: a lane's records go to its journal on the share, or, while
the share is away or full, into the local spool (core.project.spool), moved into the journal when it answers
again; a lane taken over elsewhere turns this session read-only before its next write. The Spooling part of a
Project (core.project.lanes has the rest of the team part)."""
from __future__ import annotations

import os
import time
from typing import Any

from ..errors import ProjectError, ProjectLockedError
from .lanefiles import lane_is_reachable
from .manifest import MANIFEST_NAME
from .state import ProjectState

LEASE_CHECK_S = 0.5  # a writer re-reads its lease file at most this often before journaling


class Spooling(ProjectState):
    """Writing a lane's journal, or the local spool while the share is away."""

    _seq: int  # records journaled by this session (their rid)
    _last_lease_check: float

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
