"""The one way to run in-process work off the GUI thread: several tasks at once, progress, cancel.

``submit(fn, done, key=..., progress=...)`` runs ``fn()`` in a worker thread and returns its Task. ``fn`` must
not touch Qt widgets; it reads the open project only through its own locked methods, or works on copies the
caller took. On the GUI thread then: ``done(result, error)`` once (error: a one-line message, result None),
``progress(done, total, message)`` as the work reports it. Tasks of different keys run side by side; a new
task of a key supersedes the one before it (its result and progress are dropped, and it is asked to stop).
``cancel(key)`` drops a key's task, ``cancel()`` every task; a dropped task's ``done`` never runs.

Inside ``fn``, ``current_task()`` is its Task: ``task.progress`` is a core Progress and ``task.cancelled``
(or ``task.cancel_token``, a core CancelToken for engine functions) says to stop early.

The two other threads of the app are the decoder of app/player (frames ahead of the clock, with its own
cache and clock) and the job runner's child processes (app/jobs: every engine command); see README
Architecture.
"""
from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal, Slot

from core.errors import AffectTraceError
from core.progress import CancelToken

T = TypeVar("T")
_local = threading.local()


class Task:
    """One submitted computation: its key, and progress and cancel for the work inside it."""

    def __init__(self, key: str, number: int, relay: _Relay) -> None:
        self.key, self.number, self._relay = key, number, relay
        self.cancel_token = CancelToken()

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def progress(self, done: int, total: int | None, message: str = "") -> None:
        """A core Progress: handed to the GUI thread (dropped there once the task is superseded)."""
        if not self.cancelled:
            self._relay.progress.emit(self.number, done, total, message)


def current_task() -> Task | None:
    """The Task whose work runs in this thread (None outside a Background worker)."""
    return getattr(_local, "task", None)


class _Relay(QObject):
    """Lives in the GUI thread; emitted from workers, so the connections to it are queued."""

    done = Signal(int, object, str)  # task number, result, error message
    progress = Signal(int, int, object, str)  # task number, done, total (int or None), message


class _Run(QRunnable):
    def __init__(self, task: Task, relay: _Relay, fn: Callable[[], object]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.task, self.relay, self.fn = task, relay, fn

    def run(self) -> None:
        if self.task.cancelled:  # superseded before it started
            return
        _local.task = self.task
        try:
            result = self.fn()
        except AffectTraceError as e:  # bad input: its one-line message
            self.relay.done.emit(self.task.number, None, str(e))
            return
        except Exception as e:  # odd data must not take the window down: the caller shows the message
            self.relay.done.emit(self.task.number, None, f"{type(e).__name__}: {e}")
            return
        finally:
            _local.task = None
        self.relay.done.emit(self.task.number, result, "")


class Background(QObject, Generic[T]):
    def __init__(self, parent: QObject | None = None, threads: int | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads or max(2, min(4, QThread.idealThreadCount())))
        self.relay = _Relay()
        self.relay.done.connect(self._deliver, Qt.QueuedConnection)
        self.relay.progress.connect(self._progress, Qt.QueuedConnection)
        self._count = 0
        # key -> (task, done, progress) of the task whose result is still wanted
        self._pending: dict[str, tuple[Task, Callable[[T | None, str], None],
                                       Callable[[int, int | None, str], None] | None]] = {}

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def token(self) -> int:
        """The number of the task submitted last (tasks are numbered 1, 2, ... in submission order)."""
        return self._count

    def running(self, key: str = "") -> Task | None:
        """The task of ``key`` whose result is still to come, if any."""
        entry = self._pending.get(key)
        return entry[0] if entry is not None else None

    def submit(self, fn: Callable[[], T], done: Callable[[T | None, str], None], *, key: str = "",
               progress: Callable[[int, int | None, str], None] | None = None) -> Task:
        self.cancel(key)
        self._count += 1
        task = Task(key, self._count, self.relay)
        self._pending[key] = (task, done, progress)
        self.pool.start(_Run(task, self.relay, fn))
        return task

    def cancel(self, key: str | None = None) -> None:
        """Drop the task of ``key`` (every task: None); its result will be discarded and its work asked to stop."""
        for k in list(self._pending) if key is None else [key]:
            entry = self._pending.pop(k, None)
            if entry is not None:
                entry[0].cancel()

    def _key_of(self, number: int) -> str | None:
        """The key whose wanted task has this number (None: superseded or cancelled)."""
        return next((k for k, entry in self._pending.items() if entry[0].number == number), None)

    @Slot(int, object, str)
    def _deliver(self, number: int, result: object, error: str) -> None:
        key = self._key_of(number)
        if key is None:
            return
        _task, done, _progress = self._pending.pop(key)
        done(result, error)  # result is what the task's fn returned: T

    @Slot(int, int, object, str)
    def _progress(self, number: int, done: int, total: object, message: str) -> None:
        key = self._key_of(number)
        report = self._pending[key][2] if key is not None else None
        if report is not None:
            report(done, total if isinstance(total, int) else None, message)

    def shutdown(self, timeout_ms: int = 10000) -> None:
        self.cancel()
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)
