"""One engine job as the GUI sees it: its command, its state, the events it sent, and Qt signals.

The worker thread hands every decoded event to ``_event`` (queued onto the GUI thread); the public
signals are emitted from the GUI thread only, so slots never run concurrently with the widgets.
"""
from __future__ import annotations

import signal
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from core.words import END_STATES as DONE_STATES
from core.words import FAILED_STATES, EndState

QUEUED, RUNNING, CANCELLING = "queued", "running", "cancelling"


class Job(QObject):
    """Signals carry events as ``object`` (dicts): a ``dict`` signal argument would pass through QVariantMap,
    which sorts the keys (per-AU F1 in AU order) and converts the values."""

    event = Signal(object)  # dict: every event, before the signal of its kind
    progress = Signal(object)  # dict: 'progress' event: label, done, total, message
    step = Signal(object)  # dict: training step
    epoch = Signal(object)  # dict: training epoch (validation scores)
    run = Signal(object)  # dict: training run: run_id, run_dir, config ...
    message = Signal(str, str)  # level, text
    result = Signal(object)  # dict: the command's result (what --json prints)
    failed = Signal(str)  # one line saying what went wrong
    finished = Signal(str)  # the final state, one of DONE_STATES
    stateChanged = Signal(str)

    _event = Signal(object)  # from the worker thread
    _exited = Signal(int, object)  # return code, stderr tail (list of lines)

    def __init__(self, argv: list[str], title: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.argv = list(argv)
        self.command = argv[0] if argv else ""
        self.title = title or f"affecttrace {self.command}"
        self.state = QUEUED
        self.events: list[dict[str, Any]] = []
        self.result_data: dict[str, Any] | None = None
        self.run_info: dict[str, Any] | None = None
        self.error = ""
        self.returncode: int | None = None
        self.cancel_requested = False
        self._end: dict[str, Any] | None = None
        self._event.connect(self._on_event, Qt.QueuedConnection)
        self._exited.connect(self._on_exit, Qt.QueuedConnection)

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES

    def cancel(self) -> None:
        """Queued: dropped. Running: first call asks the command to stop (training keeps last.pt); a
        second call, or the runner's grace period running out, ends the process."""
        runner = self.parent()
        if runner is not None and hasattr(runner, "cancel"):
            runner.cancel(self)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    @Slot(object)
    def _on_event(self, ev: dict[str, Any]) -> None:
        self.events.append(ev)
        self.event.emit(ev)
        kind = ev.get("event")
        if kind == "progress":
            self.progress.emit(ev)
        elif kind == "step":
            self.step.emit(ev)
        elif kind == "epoch":
            self.epoch.emit(ev)
        elif kind == "run":
            self.run_info = ev
            self.run.emit(ev)
        elif kind == "message":
            self.message.emit(str(ev.get("level", "info")), str(ev.get("text", "")))
        elif kind == "result":
            self.result_data = {k: v for k, v in ev.items() if k not in ("event", "t")}
            self.result.emit(self.result_data)
        elif kind == "error":
            self.error = str(ev.get("text", ""))
        elif kind == "end":
            self._end = ev

    @Slot(int, object)
    def _on_exit(self, code: int, stderr: list[str]) -> None:
        """The process is gone (every event before it has been handled: same queue)."""
        self.returncode = code
        state, why = self._outcome(code, stderr)
        if state in FAILED_STATES:
            self.error = why
        self._set_state(state)
        if state in FAILED_STATES:
            self.failed.emit(why)
        self.finished.emit(state)

    def _outcome(self, code: int, stderr: list[str]) -> tuple[str, str]:
        name = self.title
        if self._end is not None and code >= 0:
            state = str(self._end.get("status", EndState.FAILED.value))
            state = state if state in DONE_STATES else EndState.FAILED.value
            if state in FAILED_STATES:
                return state, self.error or _last(stderr) or f"{name} failed (exit code {code})"
            return state, ""
        if self.cancel_requested:
            return EndState.CANCELLED.value, ""
        if code < 0:
            sig = _signal_name(-code)
            hint = " (the system may have run out of memory)" if -code == signal.SIGKILL else ""
            return EndState.FAILED.value, f"{name}: its process was killed by {sig}{hint}; nothing else was changed"
        if code == 0:
            return EndState.FINISHED.value, ""
        detail = self.error or _last(stderr)
        why = f"{name} stopped unexpectedly (exit code {code})" + (f": {detail}" if detail else "")
        return EndState.FAILED.value, why


def _last(lines: list[str]) -> str:
    """The most telling line of a stderr tail: an 'affecttrace X: error' line, else the last one."""
    for line in reversed(lines):
        for mark in (": error: ", ": internal error: "):
            if line.startswith("affecttrace ") and mark in line:
                return line.split(mark, 1)[1]
    return lines[-1] if lines else ""


def _signal_name(n: int) -> str:
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"
