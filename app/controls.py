"""The window's toggles and jumps, kept in step across the widgets and the menu actions that show them:
joystick mode, fill-only recording, armed state, loop, audio, next unlabelled / disagreement, overlays."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtWidgets import QWidget

from .navigation import next_disagreement, next_unlabelled
from .widgets.joystick import MODES

if TYPE_CHECKING:
    from core.compare import AgreementSeries

    from .actions import ActionRegistry
    from .annotate import AnnotationController
    from .layout import WindowViews
    from .player import Player
    from .session import Session

ARM_TEXT = "● Arm recording (R)"
ARMED_TEXT = "● Recording armed: play to record (R stops)"


def quietly(setter: Callable, widget: QWidget, value: object) -> None:
    """Set a widget's state without emitting its signals (it mirrors a state set elsewhere)."""
    widget.blockSignals(True)
    setter(value)
    widget.blockSignals(False)


class Controls:
    def __init__(self, views: "WindowViews", registry: "ActionRegistry", annot: "AnnotationController",
                 player: "Player", session: "Session", say: Callable[[str], None]) -> None:
        self.v, self.registry, self.annot, self.player, self.session, self.say = (
            views, registry, annot, player, session, say)
        self.jump_task = "va"  # what N / Shift+N look at
        # the agreement strip on the timeline (app/engine/overlays.py), when it shows one
        self.agreement: Callable[[], AgreementSeries | None] = lambda: None
        annot.marksChanged.connect(self._follow_marks)

    def set_joystick_mode(self, mode: str) -> None:
        if self.annot.va_pass is not None:
            self.annot.set_armed(False)
        self.v.joystick.set_mode(mode)
        quietly(self.v.mode_box.setCurrentIndex, self.v.mode_box, MODES.index(mode))
        self.registry[f"mode_{mode}"].setChecked(True)

    def set_fill_only(self, on: bool) -> None:
        self.annot.fill_only_unlabelled = bool(on)
        quietly(self.v.fill_box.setCurrentIndex, self.v.fill_box, 1 if on else 0)
        self.registry["fill_only"].setChecked(bool(on))

    def show_armed(self, armed: bool) -> None:
        for w in (self.v.rec_button, self.registry["arm"]):
            quietly(w.setChecked, w, armed)
        self.v.rec_button.setText(ARMED_TEXT if armed else ARM_TEXT)

    def toggle_loop(self, on: bool | None = None) -> None:
        on = bool(on)
        r = self.annot.marked_range()
        if on and r is None:
            self.say("Mark in (I) and out (O) to loop a range")
            on = False
        self.player.set_loop(*(r[0], r[1] - 1) if on else (None, None))
        on = self.player.loop is not None  # a one-frame range does not loop
        for w in (self.v.transport.loop, self.registry["loop"]):
            quietly(w.setChecked, w, on)

    def _follow_marks(self, _in: int | None, _out: int | None) -> None:
        """A running loop follows the marks; clearing them (Esc) or leaving one unset ends it."""
        if self.player.loop is None:
            return
        r = self.annot.marked_range()
        if r is None:
            self.toggle_loop(False)
            self.say("Loop off: the in/out range is no longer marked")
        else:
            self.toggle_loop(True)

    def set_audio_enabled(self, on: bool) -> None:
        self.player.set_use_audio(bool(on))

    def next_unlabelled(self) -> None:
        t = self.session.track(create=False)
        if t is None:
            return
        i = next_unlabelled(t, self.jump_task, self.player.position)
        if i is None:
            self.say(f"Every frame is labelled for {self.jump_task}")
        else:
            self.player.seek(i)

    def next_disagreement(self) -> None:
        """The next stretch where the timeline's agreement strip says the shown track and its reference
        disagree; without one, where two annotators disagree."""
        series = self.agreement()
        if series is not None:
            from core.compare import next_disagreement as next_window

            if not np.isfinite(series.values).any():
                return self.say(f"Nothing to compare for {self.jump_task}: the agreement strip's two tracks "
                                "share no labelled frames")
            i = next_window(series, self.player.position, wrap=True)
            return self.say("No disagreement on the agreement strip") if i is None else self.player.seek(i)
        tracks = [t for t in self.session.human_tracks() if t.labelled(self.jump_task).any()]
        if len(tracks) < 2:
            return self.say(f"Nothing to compare: fewer than two annotators labelled {self.jump_task} on "
                            "this video")
        i = next_disagreement(tracks, self.jump_task, self.player.position)
        if i is None:
            self.say("The annotators agree everywhere")
        else:
            self.player.seek(i)

    def set_overlay(self, on: bool) -> None:
        self.v.video.show_overlay = bool(on)
        self.v.video.update()

    def set_anchors(self, on: bool) -> None:
        self.v.joystick.show_anchors = bool(on)
        self.v.joystick.update()
