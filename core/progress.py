"""Progress reporting shared by the engine, the CLI (a progress bar) and the GUI worker."""
from __future__ import annotations

import sys
from typing import Any, Protocol, TextIO


class Progress(Protocol):
    def __call__(self, done: int, total: int | None, message: str = "") -> None: ...


def no_progress(done: int, total: int | None, message: str = "") -> None:
    """A Progress that does nothing."""


class CancelToken:
    """Set by a caller (GUI button, signal handler) and polled by long work between steps."""

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def bar(desc: str, file: TextIO | None = None) -> Progress:
    """A Progress that draws a tqdm bar on stderr, or nothing when stderr is not a terminal (a log file, a
    pipe read by the app: redrawn bars would flood it; `--events` gives machine-readable progress there)."""
    if file is None and not _is_tty(sys.stderr):
        return no_progress
    from tqdm import tqdm

    state: dict[str, Any] = {}  # the tqdm bar (tqdm has no type information)

    def update(done: int, total: int | None, message: str = "") -> None:
        t = state.get("bar")
        if t is None:
            t = tqdm(total=total, desc=desc, file=file or sys.stderr, leave=False, dynamic_ncols=True)
            state["bar"] = t
        if total is not None and t.total != total:
            t.total = total
        t.n = done
        if message:
            t.set_postfix_str(message, refresh=False)
        t.refresh()
        if total is not None and done >= total:
            t.close()
            state.pop("bar", None)

    return update


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False
