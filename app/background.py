"""One computation at a time off the GUI thread, its result delivered back on the GUI thread.

``submit(fn, done)`` runs ``fn()`` (on copies taken by the caller: it must not touch Qt widgets or the
open project) in a worker thread; ``done(result, error)`` then runs on the GUI thread, only for the
latest request (an earlier one still running is forgotten), and never after ``cancel()``.
"""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from core.errors import AffectTraceError

T = TypeVar("T")


class _Relay(QObject):
    """Lives in the GUI thread; emitted from the worker, so the connection to it is queued."""
    done = Signal(int, object, str)  # token, result, error message


class _Job(QRunnable):
    def __init__(self, token: int, relay: _Relay, fn: Callable[[], object]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.token, self.relay, self.fn = token, relay, fn

    def run(self) -> None:
        try:
            result = self.fn()
        except AffectTraceError as e:  # bad input: its one-line message
            self.relay.done.emit(self.token, None, str(e))
            return
        except Exception as e:  # odd data must not take the window down: the caller shows the message
            self.relay.done.emit(self.token, None, f"{type(e).__name__}: {e}")
            return
        self.relay.done.emit(self.token, result, "")


class Background(QObject, Generic[T]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.relay = _Relay()
        self.relay.done.connect(self._deliver, Qt.QueuedConnection)
        self.token = 0
        self._pending: tuple[int, Callable[[T | None, str], None]] | None = None

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def submit(self, fn: Callable[[], T], done: Callable[[T | None, str], None]) -> int:
        self.token += 1
        self._pending = (self.token, done)
        self.pool.clear()  # a queued, not yet started request is superseded
        self.pool.start(_Job(self.token, self.relay, fn))
        return self.token

    def cancel(self) -> None:
        """Forget the request in flight (its result will be discarded)."""
        self.token += 1
        self._pending = None

    @Slot(int, object, str)
    def _deliver(self, token: int, result: object, error: str) -> None:
        if self._pending is None or token != self._pending[0]:
            return  # superseded by a later request
        done, self._pending = self._pending[1], None
        done(result, error)

    def shutdown(self, timeout_ms: int = 10000) -> None:
        self.cancel()
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)
