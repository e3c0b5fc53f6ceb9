"""Computes the agreement panel's tables off the GUI thread with the same core function as
`affecttrace agreement` (core.agreement.report.video_agreement), on copies of the tracks taken on the
GUI thread; the result comes back by a queued signal and is dropped when it no longer matches the
video and task on screen."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from core.agreement.defaults import DEFAULT_MAX_LAG_S
from core.agreement.report import human_tracks, reference_va, video_agreement, video_fps
from core.errors import AffectTraceError
from core.tracks import Track

if TYPE_CHECKING:
    from .session import Session
    from .widgets.agreement_panel import AgreementPanel

LAG_REFERENCE: str | None = None  # the CLI's default, --lag-reference labels


class _Relay(QObject):
    """Lives in the GUI thread; emitted from the worker, so connections to it are queued."""
    done = Signal(int, object, str)  # token, report entry (or None), error message


class _Job(QRunnable):
    def __init__(self, token: int, relay: _Relay, tracks: dict[str, Track], fps: float, task: str,
                 ref_va: np.ndarray | None) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.token, self.relay, self.tracks, self.fps, self.task, self.ref_va = token, relay, tracks, fps, task, ref_va

    def run(self) -> None:
        try:
            entry = video_agreement(self.tracks, self.fps, (self.task,), DEFAULT_MAX_LAG_S, LAG_REFERENCE,
                                    self.ref_va)
        except Exception as e:  # a metric failing on odd data must not take the window down
            self.relay.done.emit(self.token, None, f"{type(e).__name__}: {e}")
            return
        self.relay.done.emit(self.token, entry, "")


class AgreementRunner(QObject):
    """Starts one computation at a time for (video, task) of the window's session; shows the result
    in the panel when it is still the latest request and the panel still shows that video and task."""

    finished = Signal()

    def __init__(self, session: "Session", panel: "AgreementPanel", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.panel = session, panel
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.relay = _Relay()
        self.relay.done.connect(self._deliver, Qt.QueuedConnection)
        self.token = 0
        self.pending: tuple[int, str, str, int | None] | None = None  # token, video, task, column

    @property
    def busy(self) -> bool:
        return self.pending is not None

    def key(self) -> tuple[str | None, str, int | None]:
        task, col = self.panel.choice()
        return self.session.video, task, col

    def start(self) -> None:
        s = self.session
        if s.project is None or s.video is None:
            return self.panel.show_result(None, "No video.")
        video, task, col = self.key()
        try:
            tracks = {a: t.copy() for a, t in human_tracks(s.project, video).items()}  # snapshot on the GUI thread
        except AffectTraceError as e:  # an unreadable track file
            self.cancel()
            return self.panel.show_result(None, f"Could not compute: {e}")
        if sum(bool(t.labelled(task).any()) for t in tracks.values()) < 2:
            self.cancel()
            return self.panel.show_result(None, "Needs two or more annotators with labels on this video.")
        ref = reference_va(s.project, video, LAG_REFERENCE) if task == "va" else None
        self.token += 1
        self.pending = (self.token, video, task, col)
        self.pool.clear()  # a queued, not yet started request is superseded
        self.panel.set_busy(True)
        self.pool.start(_Job(self.token, self.relay, tracks, video_fps(s.project, video), task,
                             None if ref is None else ref.copy()))

    def cancel(self) -> None:
        """Forget the request in flight (its result will be discarded)."""
        self.token += 1
        self.pending = None
        self.panel.set_busy(False)

    @Slot(int, object, str)
    def _deliver(self, token: int, entry: dict | None, error: str) -> None:
        if self.pending is None or token != self.pending[0]:
            return  # superseded by a later request
        _tok, video, task, col = self.pending
        self.pending = None
        self.panel.set_busy(False)
        if self.key() != (video, task, col):
            self.panel.show_result(None, "Press Compute for this video.")
        elif error:
            self.panel.show_result(None, f"Could not compute: {error}")
        else:
            self.panel.show_report(entry, task, col, f"{len(entry.get(task, {}).get('annotators', []))} "
                                   f"annotators on {video}")
        self.finished.emit()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        self.cancel()
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)
