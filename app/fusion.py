"""The agreement panel's fused track, previewed and saved through core.agreement.fuse — the code and the
options (method, lag compensation, maximum lag) of `affecttrace fuse`, so both make the same track.
The fusion runs off the GUI thread on copies of the tracks; saving writes its result with put_track,
as `fuse` does."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Signal

from core.agreement.fuse import FusionInputs, fuse_tracks, fusion_inputs
from core.errors import AffectTraceError
from core.tracks import Track

from .background import Background

if TYPE_CHECKING:
    from .session import Session
    from .track_display import TrackDisplay
    from .widgets.agreement_panel import AgreementPanel


class FusionController(QObject):
    message = Signal(str)
    saved = Signal(str)  # video

    def __init__(self, session: "Session", panel: "AgreementPanel", tracks: "TrackDisplay",
                 refresh: Callable[[], None], save: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.panel, self.tracks = session, panel, tracks
        self.refresh, self.save_project = refresh, save
        self.job: Background[tuple[Track, dict] | None] = Background(self)
        panel.showFusedChanged.connect(self.show)
        panel.saveFusedRequested.connect(self.save)
        panel.fusionOptionsChanged.connect(lambda: self.show(True) if panel.show_fused.isChecked() else None)

    @property
    def busy(self) -> bool:
        return self.job.busy

    def _inputs(self) -> FusionInputs | None:
        s = self.session
        if s.project is None or s.video is None or len(s.human_tracks()) < 2:
            self.message.emit("Fusing needs two or more annotators on this video")
            return None
        o = self.panel.fusion_options()
        try:
            return fusion_inputs(s.project, s.video, o["lag_reference"], o["name"]).copy()
        except AffectTraceError as e:
            self.message.emit(f"Could not fuse: {e}")
            return None

    def _run(self, then: Callable[[Track, dict], None]) -> None:
        inp = self._inputs()
        if inp is None:
            return
        o = self.panel.fusion_options()
        video = self.session.video

        def done(made: tuple[Track, dict] | None, error: str) -> None:
            self.panel.set_fusing(False)
            if error:
                self.message.emit(f"Could not fuse: {error}")
            elif made is not None and self.session.video == video and self.panel.fusion_options() == o:
                then(*made)

        self.panel.set_fusing(True)
        self.job.submit(lambda: fuse_tracks(inp, o["method"], o["tasks"], o["lag_compensate"], o["max_lag_s"],
                                            o["lag_reference"]), done)

    def show(self, on: bool) -> None:
        """Preview the fused track on the timeline (not written)."""
        self.tracks.fused = None
        if not on:
            self.job.cancel()
            self.panel.set_fusing(False)
            return self.refresh()

        def shown(track: Track, _recipe: dict) -> None:
            if self.panel.show_fused.isChecked():
                self.tracks.fused = track
                self.refresh()

        self._run(shown)

    def save(self) -> None:
        """Write the fused track into the project exactly as `affecttrace fuse` would, and save."""
        if not self.session.can_edit():
            return self.message.emit("The project is read-only: the fused track cannot be saved")

        def write(track: Track, recipe: dict) -> None:
            s = self.session
            try:
                s.project.put_track(track)
            except AffectTraceError as e:
                return self.message.emit(f"Could not save the fused track: {e}")
            self.save_project()
            self.reset()
            self.refresh()
            done = ", ".join(f"{t} by {m}" for t, m in recipe["methods"].items())
            self.message.emit(f"Saved track {track.name!r}: {done}")
            self.saved.emit(s.video)

        self._run(write)

    def reset(self) -> None:
        """A new video (or saved): no preview, nothing computing."""
        self.job.cancel()
        self.panel.set_fusing(False)
        self.tracks.fused = None
        self.panel.show_fused.blockSignals(True)
        self.panel.show_fused.setChecked(False)
        self.panel.show_fused.blockSignals(False)

    def shutdown(self) -> None:
        self.job.shutdown()
