"""Everything that describes the shown frame, kept in agreement: the transport readout, the status bar,
the expression and AU panels and the timeline's playhead.

``show(i)`` runs for every frame the player shows (paused or playing) and for every label or speed
change. It stays cheap at the frame rate: the readouts are app.widgets.live_text.LiveText (new text
repaints one line, never lays the window out again), the panels change only with the labels, and the
playhead moves at most every other frame while playing (exactly when paused). There is no other path
that writes these widgets, so they cannot describe different frames.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.labels import EXPRESSIONS
from core.tracks import Track

from .annotate import frame_labels
from .widgets.transport import fmt_fps, fmt_time

if TYPE_CHECKING:
    from .layout import WindowViews
    from .player import Player
    from .session import Session


class FrameDisplay:
    def __init__(self, views: "WindowViews", session: "Session", player: "Player") -> None:
        self.v, self.session, self.player = views, session, player
        self._last: tuple | None = None

    def own_track(self) -> Track | None:
        s = self.session
        return s.track(create=False) if s.project is not None and s.video is not None else None

    def show(self, i: int) -> None:
        """Describe frame ``i`` (the frame on screen) everywhere. While playing, the playhead moves every
        other frame at most; when playback stops, ``refresh`` puts it exactly on the shown frame."""
        p, v = self.player, self.v
        fps = p.fps
        v.transport.show_position(i, p.n_frames, float(fps))
        if v.timeline is not None:
            v.timeline.set_playhead(i, coarse=p.playing)
        lab = frame_labels(self.own_track(), i)
        v.st_frame.setText(f"frame {i}  ·  {fmt_time(i / float(fps))}  ·  {fmt_fps(fps)} fps  ·  {p.speed:g}x")
        key = (lab["expr"], tuple(lab["au"]))
        if key != self._last:  # the panels change with the labels, not with every frame
            self._last = key
            v.expr_panel.show_value(lab["expr"])
            v.au_panel.show_values(lab["au"] or None)
        v.joystick.set_frame_va(lab["va"])
        va = "—" if lab["va"] is None else f"{lab['va'][0]:+.2f} / {lab['va'][1]:+.2f}"
        ex = "—" if lab["expr"] is None else EXPRESSIONS[lab["expr"]]
        aus = [a for a, x in zip(v.au_panel.aus, lab["au"]) if x == 1]
        v.st_labels.setText(f"VA {va}  ·  expr {ex}  ·  AU {' '.join(aus) if aus else '—'}")

    def refresh(self) -> None:
        """The labels or the speed changed: describe the shown frame again."""
        self._last = None
        if self.player.current >= 0:
            self.show(self.player.current)

    def clear(self) -> None:
        self._last = None
        for w in (self.v.st_frame, self.v.st_labels):
            w.setText("")
        self.v.transport.show_position(-1, 0, 25.0)
        self.v.expr_panel.show_value(None)
        self.v.au_panel.show_values(None)
        self.v.joystick.set_frame_va(None)
