"""Annotation actions: joystick recording passes, hold-to-paint expressions and AUs, in/out range fills.

Painting and recording both go through ``PassRecorder`` (one sample per shown frame, one undo
step per pass); single taps and range fills are single edits. Everything is stamped with the
session's annotator.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.edits import Edit, record
from core.labels import AU_MISSING, EXPR_MISSING

from .player import Player
from .recording import PassRecorder
from .session import Session
from .widgets.joystick import JoystickField


class AnnotationController(QObject):
    marksChanged = Signal(object, object)  # in, out (None when unset)
    recordingChanged = Signal(bool)  # a VA pass is being written
    armedChanged = Signal(bool)
    message = Signal(str)

    def __init__(self, session: Session, player: Player, joystick: JoystickField,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.player = player
        self.joystick = joystick
        self.armed = False
        self.fill_only_unlabelled = False  # VA recording: keep frames already labelled
        self.absent_by_default = True  # painting an AU marks the project's other AUs absent where unlabelled
        self.au_intensity: int | None = None  # 1..5 when intensities are coded
        self.mark_in: int | None = None
        self.mark_out: int | None = None
        self.va_pass: PassRecorder | None = None
        self.paint: dict[tuple[str, int], PassRecorder] = {}
        player.frameShown.connect(self._on_frame)
        player.playingChanged.connect(self._on_playing)

    # --- VA recording ---
    def set_armed(self, armed: bool) -> None:
        if armed and not self.session.can_edit():
            self.message.emit("Cannot record: the project is read-only or no video is open")
            armed = False
        if armed == self.armed:
            return
        self.armed = armed
        self.armedChanged.emit(armed)
        if armed and self.player.playing:
            self._start_va()
        elif not armed:
            self._stop_va()

    def _on_playing(self, playing: bool) -> None:
        if playing and self.armed:
            self._start_va()
        elif not playing:
            self._stop_va()
            self.finish_all()

    def _start_va(self) -> None:
        if self.va_pass is not None or not self.session.can_edit():
            return
        s = self.session
        track = s.track()
        cols = self.joystick.columns()
        fill = self.fill_only_unlabelled
        video, name, author = s.video, track.name, s.annotator

        def make(start: int, samples: np.ndarray) -> Edit:
            return record(video, name, "va", start, samples, columns=cols, author=author, fill=fill)

        self.va_pass = PassRecorder(s.project, make, self.joystick.sample, track.n_frames, interpolate=True,
                                    text=f"record {self.joystick.mode} pass")
        self.joystick.recording = True
        self.joystick.clear_trail()
        p = self.player
        if p.current >= 0 and p.position == p.current:  # playing on from the frame on screen: that frame is
            self.va_pass.on_frame(p.current, True)  # the pass's first (a pass from a pause at P writes P)
        self.recordingChanged.emit(True)

    def _stop_va(self) -> None:
        rec, self.va_pass = self.va_pass, None
        if rec is None:
            return
        rec.finish(self.session.stack)
        self.joystick.recording = False
        self.joystick.update()
        self.recordingChanged.emit(False)

    def _on_frame(self, i: int, contiguous: bool) -> None:
        if self.va_pass is not None:
            self.va_pass.on_frame(i, contiguous)
            self.joystick.push_trail()
        for rec in list(self.paint.values()):
            rec.on_frame(i, contiguous)

    # --- marks ---
    def set_in(self, i: int | None = None) -> None:
        self.mark_in = self.player.position if i is None else i
        if self.mark_out is not None and self.mark_out < self.mark_in:
            self.mark_out = None
        self.marksChanged.emit(self.mark_in, self.mark_out)

    def set_out(self, i: int | None = None) -> None:
        self.mark_out = self.player.position if i is None else i
        if self.mark_in is not None and self.mark_in > self.mark_out:
            self.mark_in = None
        self.marksChanged.emit(self.mark_in, self.mark_out)

    def clear_marks(self) -> None:
        self.mark_in = self.mark_out = None
        self.marksChanged.emit(None, None)

    def marked_range(self) -> tuple[int, int] | None:
        """[in, out] as a half-open frame range, or None unless both marks are set."""
        if self.mark_in is None or self.mark_out is None:
            return None
        return self.mark_in, self.mark_out + 1

    # --- painting (hold a key; a tap when paused labels the shown frame) ---
    def press_expr(self, cls: int) -> None:
        """Start painting expression ``cls`` (EXPR_MISSING clears) from the shown frame on."""
        self._start_paint(("expr", cls), lambda start, s: self._expr_edits(start, len(s), cls))

    def release_expr(self, cls: int) -> None:
        self._finish_paint(("expr", cls))

    def press_au(self, k: int) -> None:
        track = self.session.track() if self.session.can_edit() else None
        if track is None:
            return self._refuse()
        cur = self.player.position
        value = 0 if 0 <= cur < track.n_frames and track.au[cur, k] == 1 else 1  # a tap toggles
        self._start_paint(("au", k), lambda start, s: self._au_edits(start, start + len(s), k, value))

    def release_au(self, k: int) -> None:
        self._finish_paint(("au", k))

    def _refuse(self) -> None:
        self.message.emit("Read-only project or no video/annotator: labels cannot be changed")

    def _start_paint(self, key: tuple[str, int], make) -> None:
        if key in self.paint:
            return
        if not self.session.can_edit() or self.player.position < 0:
            return self._refuse()
        track = self.session.track()
        rec = PassRecorder(self.session.project, make, lambda: 0.0, track.n_frames, interpolate=False,
                           chunk=25)
        self.paint[key] = rec
        rec.on_frame(self.player.position, True)
        rec.flush()  # the shown frame is labelled as soon as the key goes down

    def _finish_paint(self, key: tuple[str, int]) -> None:
        rec = self.paint.pop(key, None)
        if rec is not None:
            rec.finish(self.session.stack)

    def finish_all(self) -> None:
        """End every held paint key (the window closes or the project changes)."""
        for key in list(self.paint):
            self._finish_paint(key)

    def flush(self) -> None:
        """Write what a running recording pass has collected so far (before a save)."""
        if self.va_pass is not None:
            self.va_pass.flush()

    # --- edits ---
    def _expr_edits(self, start: int, n: int, cls: int) -> list[Edit]:
        s = self.session
        return s.set_labels("expr", start, start + n, cls) if cls != EXPR_MISSING else s.clear_labels(
            "expr", start, start + n)

    def _au_edits(self, start: int, stop: int, k: int, value: int) -> list[Edit]:
        s = self.session
        track = s.track()
        edits = s.set_labels("au", start, stop, value, columns=(k,))
        others = tuple(j for j in range(track.au.shape[1]) if j != k)
        if self.absent_by_default and others:
            edits += s.set_labels("au", start, stop, np.zeros(len(others), np.int8), columns=others, fill=True)
        if self.au_intensity is not None:
            edits += s.set_labels("au_intensity", start, stop, self.au_intensity if value == 1 else 0, columns=(k,))
        return edits

    def fill_expr(self, cls: int) -> bool:
        """Fill the in/out range with an expression (EXPR_MISSING clears it): one undo step."""
        r = self._editable_range()
        return r is not None and self.session.push(self._expr_edits(r[0], r[1] - r[0], cls))

    def fill_au(self, k: int, value: int = 1) -> bool:
        r = self._editable_range()
        return r is not None and self.session.push(self._au_edits(r[0], r[1], k, value))

    def _editable_range(self) -> tuple[int, int] | None:
        """The in/out range when one is marked and the project can be edited; else says why."""
        r = self.marked_range()
        if r is None:
            self.message.emit("Mark in (I) and out (O) first")
            return None
        if not self.session.can_edit():
            self._refuse()
            return None
        return r

    def clear_range(self, task: str) -> bool:
        r = self.marked_range()
        if r is None or not self.session.can_edit():
            return False
        return self.session.push(self.session.clear_labels(task, *r))

    def set_va_here(self) -> bool:
        """Write the joystick value on the shown frame (outside recording)."""
        if not self.session.can_edit() or self.player.position < 0:
            return False
        i = self.player.position
        return self.session.push(self.session.set_labels("va", i, i + 1, self.joystick.sample(),
                                                         columns=self.joystick.columns()))


def frame_labels(track, i: int) -> dict:
    """The labels of frame ``i`` of a track for display: va (2,) or None, expr int or None, au list."""
    if track is None or not 0 <= i < track.n_frames:
        return {"va": None, "expr": None, "au": []}
    va = track.va[i]
    e = int(track.expr[i])
    return {"va": None if np.isnan(va).all() else va.copy(), "expr": None if e == EXPR_MISSING else e,
            "au": [int(x) for x in track.au[i]], "au_missing": AU_MISSING}
