"""The edit journal: JSON lines appended with one write() each, fsync'd in the background.

``journal/<generation>.jsonl`` holds every change made on top of index generation ``<generation>``.
A record reaches the OS before ``append`` returns (so kill -9 loses nothing); a background thread
fsyncs at most every ``SYNC_INTERVAL`` s (so power loss loses at most that much). A save starts the
next generation's file; the previous one is kept until the save after, for the index fallback.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from ..errors import ProjectError
from ..fsio import fsync_dir, open_append, open_regular, os_problem, read_regular, real_folder, write_all

JOURNAL_DIR = "journal"
SYNC_INTERVAL = 0.25


def journal_path(folder: Path, generation: int) -> Path:
    return folder / JOURNAL_DIR / f"{generation:08d}.jsonl"


def journal_generations(folder: Path) -> list[int]:
    d = folder / JOURNAL_DIR
    if not d.is_dir():
        return []
    out = []
    for p in d.glob("*.jsonl"):
        if p.stem.isdigit():
            out.append(int(p.stem))
    return sorted(out)


def read_journal(path: Path) -> tuple[list[dict[str, Any]], int]:
    """(records, number of unreadable lines). A torn last line (crash mid-write) is simply skipped."""
    if not os.path.lexists(path):
        return [], 0
    raw = read_regular(path, ProjectError)  # a FIFO or a link-to-FIFO is refused, never waited on
    records, bad = [], 0
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if isinstance(rec, dict) and "op" in rec:
                records.append(rec)
            else:
                bad += 1
        except ValueError:
            bad += 1
    return records, bad


class Journal:
    """Append-only writer for one generation's journal file."""

    def __init__(self, folder: Path, generation: int) -> None:
        self.folder = folder
        self.generation = generation
        self.path = journal_path(folder, generation)
        self.count = 0
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._unsynced = False
        self._torn = False  # a failed write may have left half a line: start the next one on a new line
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sync_error: OSError | None = None
        self._open()

    def _open(self) -> None:
        real_folder(self.path.parent, self.folder, ProjectError)
        existed = os.path.lexists(self.path)
        self._fd = open_append(self.path, ProjectError)  # never through a link, never a FIFO
        if not existed:
            fsync_dir(self.path.parent)
        else:
            size = os.fstat(self._fd).st_size
            if size > 0:
                fd = open_regular(self.path, os.O_RDONLY, error=ProjectError, verb="cannot read")
                try:
                    self._torn = os.pread(fd, 1, size - 1) != b"\n"
                finally:
                    os.close(fd)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record; it is in the OS when this returns. Raises ProjectError (e.g. disk full)."""
        line = json.dumps(record, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"
        with self._lock:
            if self._fd is None:
                raise ProjectError("journal is closed", self.path)
            try:
                write_all(self._fd, (b"\n" + line) if self._torn else line)
                self._torn = False
            except OSError as e:
                self._torn = True
                raise ProjectError(f"cannot journal the edit: {os_problem(e)}", self.path) from e
            self.count += 1
            self._unsynced = True
        if self._thread is None:
            self._thread = threading.Thread(target=self._sync_loop, name="affecttrace-journal-sync", daemon=True)
            self._thread.start()

    def sync(self) -> None:
        """fsync now (on save, close, and from the background thread)."""
        with self._lock:
            if self._fd is None or not self._unsynced:
                return
            self._unsynced = False
            fd = os.dup(self._fd)  # fsync a duplicate outside the lock: appends never wait for the disk
        try:
            os.fsync(fd)
        except OSError as e:
            self._unsynced = True
            raise ProjectError(f"cannot sync journal: {os_problem(e)}", self.path) from e
        finally:
            os.close(fd)

    def _sync_loop(self) -> None:
        while not self._stop.wait(SYNC_INTERVAL):
            try:
                self.sync()
            except ProjectError as e:
                self.sync_error = e.__cause__ if isinstance(e.__cause__, OSError) else OSError(str(e))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        try:
            self.sync()
        finally:
            with self._lock:
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
