"""Computes the agreement panel's tables off the GUI thread with the same core function as
`affecttrace agreement` (core.agreement.report.video_agreement), on copies of the tracks taken on the
GUI thread; the result is dropped when it no longer matches the video and task on screen."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from core.agreement.defaults import DEFAULT_MAX_LAG_S
from core.agreement.report import human_tracks, reference_va, video_agreement, video_fps
from core.errors import AffectTraceError

from .background import Background

if TYPE_CHECKING:
    from .session import Session
    from .widgets.agreement_panel import AgreementPanel

LAG_REFERENCE: str | None = None  # the CLI's default, --lag-reference labels


class AgreementRunner(QObject):
    """One computation at a time for (video, task) of the window's session; the result is shown when
    it is still the latest request and the panel still shows that video and task."""

    finished = Signal()

    def __init__(self, session: "Session", panel: "AgreementPanel", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.panel = session, panel
        self.job: Background[dict] = Background(self)

    @property
    def busy(self) -> bool:
        return self.job.busy

    def key(self) -> tuple[str | None, str, int | None]:
        task, col = self.panel.choice()
        return self.session.video, task, col

    def start(self) -> None:
        s = self.session
        if s.project is None or s.video is None:
            return self.panel.show_result(None, "No video.")
        key = video, task, _col = self.key()
        try:
            tracks = {a: t.copy() for a, t in human_tracks(s.project, video).items()}  # snapshot on the GUI thread
        except AffectTraceError as e:  # an unreadable track file
            self.cancel()
            return self.panel.show_result(None, f"Could not compute: {e}")
        if sum(bool(t.labelled(task).any()) for t in tracks.values()) < 2:
            self.cancel()
            return self.panel.show_result(None, "Needs two or more annotators with labels on this video.")
        ref = reference_va(s.project, video, LAG_REFERENCE) if task == "va" else None
        ref = None if ref is None else ref.copy()
        fps = video_fps(s.project, video)
        self.panel.set_busy(True)
        self.job.submit(lambda: video_agreement(tracks, fps, (task,), DEFAULT_MAX_LAG_S, LAG_REFERENCE, ref),
                        lambda entry, error: self._deliver(key, entry, error))

    def cancel(self) -> None:
        """Forget the request in flight (its result will be discarded)."""
        self.job.cancel()
        self.panel.set_busy(False)

    def _deliver(self, key: tuple[str | None, str, int | None], entry: dict | None, error: str) -> None:
        video, task, col = key
        self.panel.set_busy(False)
        if self.key() != key:
            self.panel.show_result(None, "Press Compute for this video.")
        elif error:
            self.panel.show_result(None, f"Could not compute: {error}")
        else:
            self.panel.show_report(entry, task, col, f"{len(entry.get(task, {}).get('annotators', []))} "
                                   f"annotators on {video}")
        self.finished.emit()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        self.cancel()
        self.job.shutdown(timeout_ms)
