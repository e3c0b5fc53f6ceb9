"""A marker for changes made in many steps (an import): while it exists, the last such change did not finish.

The steps are journaled one by one, so a process killed midway leaves a project that replays part of
the change. The marker is written before the first step and removed after the save that ends the
change; ``Project.open`` turns a marker left behind into a warning naming the command and its start.
"""
from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..fsio import atomic_write_bytes, remove_quietly

MARKER_NAME = "incomplete.json"


@contextmanager
def marked_incomplete(folder: Path, what: str) -> Iterator[None]:
    """Mark ``folder`` as changing by ``what`` until the block ends without an exception."""
    started = time.time()
    atomic_write_bytes(folder / MARKER_NAME, json.dumps({"what": what, "pid": os.getpid(),
                                                         "started": started}).encode())
    yield
    remove_quietly(folder / MARKER_NAME)


def incomplete_note(folder: Path) -> str | None:
    """The warning for a change that did not finish, or None."""
    path = folder / MARKER_NAME
    if not os.path.lexists(path):
        return None
    try:
        if not path.is_file():  # never read a FIFO put in its place
            raise ValueError
        d = json.loads(path.read_bytes()[:4096])
        what = str(d["what"])[:200]
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(d["started"])))
    except (OSError, ValueError, KeyError, TypeError):
        what, since = "a change", "an unknown time"
    return (f"{what} (started {since}) did not finish: the project holds only part of it; run it again "
            f"({MARKER_NAME} is removed when it completes)")
