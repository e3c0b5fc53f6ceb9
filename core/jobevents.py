"""The engine's event stream: one JSON object per line, for the app's job runner and for scripts.

A long engine command given ``--events`` writes these lines to stdout instead of drawing progress
bars; the app runs the command as a child process and reads them. Every line is an object with
``"event"`` (its kind) and ``"t"`` (Unix time), plus the kind's fields:

    start     command, argv, pid, device (when known)
    progress  label, done, total (null when unknown), message
    run       training run: run_id, run_dir, config (the TrainConfig), device, resumed, epochs,
              total_steps, train_samples, val_samples, message; from here on a training run also appends
              every event to run_dir/events.jsonl (a resumed run appends a second 'run')
    step      training step: epoch, epochs, step, total_steps, losses {total, va, expr, au}, lr,
              images_per_s, eta_s, device, memory_mb (RSS on the CPU, max allocated on CUDA)
    epoch     training epoch: epoch, epochs, step, losses, lr, metrics {val_...}, best (bool),
              details {expr_classes, expr_confusion, expr_per_class_f1, au_per_au_f1} when validated
    message   level (info | warning), text
    result    the command's result (what ``--json`` prints)
    error     text (the one-line error), code
    end       status (finished | cancelled | failed | diverged | early-stopped), code
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from .errors import AffectTraceError
from .fsio import disk_problem, open_append, read_regular
from .progress import Progress

EVENT_KINDS = ("start", "run", "progress", "step", "epoch", "message", "result", "error", "end")


def json_safe(v: Any) -> Any:
    """A JSON-ready copy: NaN and infinity become None (JSON has neither, so every line parses strictly),
    paths and numpy/torch scalars plain values."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if isinstance(v, Path):
        return str(v)
    if hasattr(v, "item") and callable(v.item):  # numpy / torch scalars
        return json_safe(v.item())
    return v


def encode(kind: str, **fields: Any) -> str:
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    return json.dumps({"event": kind, "t": round(time.time(), 3), **json_safe(fields)}, separators=(",", ":"))


def decode(line: str) -> dict[str, Any] | None:
    """One event from a line, or None for a line that is not an event (stray output of a library)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        ev = json.loads(line)
    except ValueError:
        return None
    return ev if isinstance(ev, dict) and ev.get("event") in EVENT_KINDS else None


class EventStream:
    """Writes events to ``out`` (default stdout) and, when given, appends them to ``log`` as well.

    Thread-safe; every line is flushed at once so a reader sees it while the command runs."""

    def __init__(self, out: IO[str] | None = None, log: Path | None = None) -> None:
        self.out = out if out is not None else sys.stdout
        self._log: IO[str] | None = None
        self._log_path = Path()
        self._lock = threading.Lock()
        if log is not None:
            self.log_to(log)

    def log_to(self, path: Path) -> None:
        """Also append every later event to ``path`` (e.g. a training run's events.jsonl)."""
        with self._lock:
            if self._log is not None:
                self._log.close()
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._log = os.fdopen(open_append(path), "a", encoding="utf-8")  # never through a link
            self._log_path = Path(path)

    def emit(self, kind: str, **fields: Any) -> None:
        line = encode(kind, **fields)
        with self._lock:
            try:
                self.out.write(line + "\n")
                self.out.flush()
            except (BrokenPipeError, ValueError):  # the reader is gone (the app was killed): the run's log goes on
                self._lost_reader()
            if self._log is not None:
                try:
                    self._log.write(line + "\n")
                    self._log.flush()
                except OSError as e:  # a full disk: said once, naming the log; later events go to ``out`` only
                    log, self._log = self._log, None
                    with contextlib.suppress(OSError):
                        log.close()
                    raise AffectTraceError(f"cannot write: {disk_problem(self._log_path, e)}",
                                           self._log_path) from None

    def _lost_reader(self) -> None:
        quiet = open(os.devnull, "w")
        if self.out is sys.stdout:  # (else the interpreter's last flush of stdout fails again at exit)
            sys.stdout = quiet
        self.out = quiet

    def message(self, text: str, level: str = "info") -> None:
        self.emit("message", level=level, text=text)

    def progress(self, label: str) -> Progress:
        """A ``core.progress.Progress`` that emits 'progress' events, at most ten a second (and the last)."""
        state = {"t": 0.0}

        def update(done: int, total: int | None, message: str = "") -> None:
            now = time.monotonic()
            if now - state["t"] < 0.1 and not (total is not None and done >= total):
                return
            state["t"] = now
            self.emit("progress", label=label, done=int(done), total=None if total is None else int(total),
                      message=message)

        return update

    def close(self) -> None:
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every event of a saved log (a run's events.jsonl); lines that do not parse are skipped."""
    out: list[dict[str, Any]] = []
    for line in read_regular(path).decode("utf-8", "replace").splitlines():  # a FIFO is refused, not waited on
        ev = decode(line)
        if ev is not None:
            out.append(ev)
    return out
