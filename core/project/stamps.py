"""Edit stamps of a lane: which session's edit last wrote each frame, so copies can be merged back.

Every lane record carries ``rid`` = "<session>:<seq>". Per track and task a lane keeps an int64 stamp
per frame, ``(index of the session in the lane's table + 1) << 32 | seq`` of the last edit (0: not
edited in any lane, e.g. imported), saved as datasets stamp_va/stamp_expr/stamp_au beside the track.
The lane's index also keeps ``vector``: for each session, the highest seq this lane has incorporated.
A frame changed in a copy since it was made is one whose stamp the other side's vector has not seen.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..labels import TASKS
from . import storage
from .state import Key, ProjectState

STAMP_DATASETS = tuple(f"stamp_{t}" for t in TASKS)


def split_rid(rid: object) -> tuple[str, int] | None:
    if not isinstance(rid, str) or ":" not in rid:
        return None
    session, _, seq = rid.rpartition(":")
    return (session, int(seq)) if seq.isdigit() else None


class Stamps(ProjectState):
    _vector: dict[str, int]
    _session_ids: list[str]
    _stamps: dict[Key, dict[str, np.ndarray]]

    def _load_stamp_meta(self) -> None:
        meta = self._index.meta or {}
        vec = meta.get("vector", {})
        self._vector = {str(k): int(v) for k, v in vec.items()} if isinstance(vec, dict) else {}
        ids = meta.get("sessions", [])
        self._session_ids = [str(x) for x in ids] if isinstance(ids, list) else []

    def _stamp_meta(self) -> dict[str, Any]:
        return {"vector": dict(self._vector), "sessions": list(self._session_ids)} if self.lane is not None else {}

    def _code(self, session: str, seq: int) -> int:
        if session not in self._session_ids:
            self._session_ids.append(session)
        return (self._session_ids.index(session) + 1) << 32 | seq

    def decode(self, code: int) -> tuple[str, int] | None:
        """(session, seq) of a stamp of this lane; None for 0 (never edited in a lane)."""
        if code == 0:
            return None
        i = (code >> 32) - 1
        return (self._session_ids[i], code & 0xFFFFFFFF) if 0 <= i < len(self._session_ids) else None

    def has_seen(self, session: str, seq: int) -> bool:
        return self._vector.get(session, 0) >= seq

    def stamps(self, video: str, name: str) -> dict[str, np.ndarray]:
        """task -> per-frame stamps of one of this lane's tracks (loaded on first use)."""
        key = (video, name)
        s = self._stamps.get(key)
        if s is not None:
            return s
        e = self._entries.get(key)
        n = e.n_frames if e is not None else self._video(video).frame_count
        s = {t: np.zeros(n, np.int64) for t in TASKS}
        if e is not None and e.file:
            got = storage.read_arrays(self.root / e.file, [e.group], STAMP_DATASETS, missing_ok=True)[0]
            for t in TASKS:
                arr = got.get(f"stamp_{t}")
                if arr is not None and arr.shape == (n,):
                    s[t] = arr.astype(np.int64)
        self._stamps[key] = s
        return s

    def _note_stamp(self, rec: dict[str, Any]) -> None:
        """Bring stamps and the seen-vector up to one lane record (appended now, or replayed)."""
        if self.lane is None:
            return
        sr = split_rid(rec.get("rid"))
        if sr is None:
            return
        session, seq = sr
        self._vector[session] = max(self._vector.get(session, 0), seq)
        op = rec.get("op")
        if op in ("apply", "revert"):
            e = rec["edit"]
            key = (str(e["video"]), str(e["track"]))
            if key not in self._entries:
                return
            task = "au" if e["task"] == "au_intensity" else str(e["task"])
            start = int(e["start"])
            self.stamps(*key)[task][start:start + len(e["values"])] = self._code(session, seq)
        elif op in ("new_track", "put", "delete"):
            key = (str(rec["video"]), str(rec["name"]))
            self._stamps.pop(key, None)
            if op == "put" and not rec.get("adopt") and key in self._entries:
                for arr in self.stamps(*key).values():
                    arr[:] = self._code(session, seq)

    def absorb(self, vector: dict[str, int]) -> None:
        """After a merge: this lane has now seen everything the other copy had seen."""
        for s, q in vector.items():
            self._vector[s] = max(self._vector.get(s, 0), int(q))
        self._unsaved = True

    def _stamp_extras(self, keys: list[Key]) -> list[dict[str, np.ndarray]] | None:
        if self.lane is None:
            return None
        return [{f"stamp_{t}": a for t, a in self.stamps(*k).items()} for k in keys]
