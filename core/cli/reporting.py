"""How long commands report: ``--events`` (JSON lines on stdout for the app's jobs, core.jobevents), a
progress bar only on a terminal, and the result as text, JSON or a 'result' event.

A command adds the flag with ``add_events_flag(parser)``; ``core.cli.main`` then opens the stream and
emits 'start', 'error' and 'end' itself. The command reports progress with ``progress(args, label)``,
its outcome with ``report(args, result, text)`` and a non-default end status (e.g. 'diverged') by
setting ``args.end_status``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Iterable

from ..jobevents import EventStream
from ..progress import Progress, bar, no_progress
from ..words import EndState

EVENTS_HELP = ("print machine-readable events (JSON lines: progress, messages, result, end) on stdout "
               "instead of a progress bar; used by the app's job runner")


def add_events_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--events", action="store_true", help=EVENTS_HELP)


def wants_events(args: argparse.Namespace) -> bool:
    """--events given, and this is the main process (under torchrun only rank 0 reports)."""
    return bool(getattr(args, "events", False)) and os.environ.get("RANK", "0") == "0"


def open_stream(args: argparse.Namespace) -> EventStream | None:
    """Called by core.cli.main: the stream of a command run with --events (kept on ``args``)."""
    stream = EventStream() if wants_events(args) else None
    args.event_stream = stream
    if stream is not None:
        stream.emit("start", command=args.command, argv=sys.argv[1:], pid=os.getpid())
    return stream


def stream_of(args: argparse.Namespace) -> EventStream | None:
    return getattr(args, "event_stream", None)


def progress(args: argparse.Namespace, label: str) -> Progress:
    """'progress' events with --events, else a bar when stderr is a terminal, else nothing."""
    stream = stream_of(args)
    if stream is not None:
        return stream.progress(label)
    if sys.stderr.isatty():
        return bar(label)
    return no_progress


def message(args: argparse.Namespace, text: str, level: str = "info") -> None:
    """A note for the user: a 'message' event with --events, else a line on stderr."""
    stream = stream_of(args)
    if stream is not None:
        stream.message(text, level)
    else:
        print(("warning: " if level == "warning" else "note: ") + text, file=sys.stderr)


def report(args: argparse.Namespace, result: dict[str, Any], text: Iterable[str] | str) -> None:
    """The command's outcome: a 'result' event (--events), JSON (--json), or the text lines."""
    stream = stream_of(args)
    if stream is not None:
        stream.emit("result", **result)
    elif getattr(args, "json", False):
        print(json.dumps(result, indent=2, default=float))
    else:
        print(text if isinstance(text, str) else "\n".join(text))


def end_status(args: argparse.Namespace, code: int) -> str:
    """The 'end' status: what the command set on ``args.end_status``, else from the exit code."""
    status = getattr(args, "end_status", None)
    if status:
        return str(status)
    state = EndState.FINISHED if code == 0 else EndState.CANCELLED if code == 130 else EndState.FAILED
    return state.value
