"""Which tracks the timeline draws: every track's VA curves (and a fused preview), the lanes of one
annotator, and the View > Tracks menu that switches curves on and off."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from core.tracks import Track, TrackKind

if TYPE_CHECKING:
    from .layout import WindowViews
    from .session import Session

KIND_NOTE = {TrackKind.HUMAN: "", TrackKind.MODEL: " (model)", TrackKind.FUSED: " (fused)"}


def kind_note(track: Track) -> str:
    """What a track is, after its name in menus: '' for annotators' tracks, ' (model)', ' (openface, read-only)'."""
    tool = track.source.tool
    return f" ({tool}, read-only)" if tool else KIND_NOTE[track.source.kind]


class TrackDisplay:
    def __init__(self, views: "WindowViews", session: "Session") -> None:
        self.v, self.session = views, session
        self.fused: Track | None = None  # a fused track shown before it is saved
        self.lanes_of: str | None = None  # whose labels the lanes show (None: the annotator's own)

    def refresh(self, menu: QMenu) -> None:
        s, tl = self.session, self.v.timeline
        if s.video is None or tl is None:
            return
        own = s.track(create=s.can_edit())
        tracks = s.tracks()
        if self.fused is not None:
            tracks = [t for t in tracks if t.name != self.fused.name] + [self.fused]
        tl.set_tracks(tracks)
        lanes = self.lanes_of if self.lanes_of in s.project.track_names(s.video) else None
        tl.set_lane_track(s.project.track(s.video, lanes) if lanes else own)
        menu.clear()
        for t in tracks:
            a = QAction(t.name + kind_note(t), menu)
            a.setCheckable(True)
            a.setChecked(tl.visible.get(t.name, True))
            a.toggled.connect(lambda on, n=t.name: tl.set_visible(n, on))
            menu.addAction(a)
