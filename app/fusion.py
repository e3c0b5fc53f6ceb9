"""The agreement panel's fused track: previewed and saved through core.agreement.fuse, the same code
and options as `affecttrace fuse` (method, lag compensation, maximum lag), so both make the same track."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Signal

from core.errors import AffectTraceError

if TYPE_CHECKING:
    from .session import Session
    from .track_display import TrackDisplay
    from .widgets.agreement_panel import AgreementPanel


class FusionController(QObject):
    message = Signal(str)

    def __init__(self, session: "Session", panel: "AgreementPanel", tracks: "TrackDisplay",
                 refresh: Callable[[], None], save: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.panel, self.tracks = session, panel, tracks
        self.refresh, self.save_project = refresh, save
        panel.showFusedChanged.connect(self.show)
        panel.saveFusedRequested.connect(self.save)
        panel.fusionOptionsChanged.connect(lambda: self.show(True) if panel.show_fused.isChecked() else None)

    def _ready(self) -> bool:
        s = self.session
        if s.project is None or s.video is None or len(s.human_tracks()) < 2:
            self.message.emit("Fusing needs two or more annotators on this video")
            return False
        return True

    def show(self, on: bool) -> None:
        """Preview the fused track on the timeline (not written)."""
        from core.agreement.fuse import fused_track

        self.tracks.fused = None
        if on and self._ready():
            s = self.session
            try:
                made = fused_track(s.project, s.video, **self.panel.fusion_options())
            except (AffectTraceError, ValueError) as e:
                self.message.emit(f"Could not fuse: {e}")
                made = None
            self.tracks.fused = None if made is None else made[0]
        self.refresh()

    def save(self) -> None:
        """Write the fused track into the project, exactly as `affecttrace fuse` would, and save."""
        from core.agreement.fuse import fuse_video

        s = self.session
        if not self._ready():
            return
        if not s.can_edit():
            return self.message.emit("The project is read-only: the fused track cannot be saved")
        opts = self.panel.fusion_options()
        try:
            recipe = fuse_video(s.project, s.video, **opts)
        except (AffectTraceError, ValueError) as e:
            return self.message.emit(f"Could not fuse: {e}")
        self.save_project()
        self.reset()
        self.refresh()
        if recipe is not None:
            done = ", ".join(f"{t} by {m}" for t, m in recipe["methods"].items())
            self.message.emit(f"Saved track {opts['name']!r}: {done}")

    def reset(self) -> None:
        """A new video: no preview."""
        self.tracks.fused = None
        self.panel.show_fused.blockSignals(True)
        self.panel.show_fused.setChecked(False)
        self.panel.show_fused.blockSignals(False)
