"""The open project as the views see it: current video, annotator and track; edits through one undo stack.

Views listen to Qt signals here; the project itself (core.project.Project) stays plain data with
core.events signals, which are forwarded.
"""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from core.edits import Edit, clear_range, set_range
from core.errors import AffectTraceError
from core.project import Project
from core.tracks import Track, TrackKind, TrackSource

from .commands import push_edits


class Session(QObject):
    projectChanged = Signal()
    videoChanged = Signal(str)
    annotatorChanged = Signal(str)
    labelsChanged = Signal(str, str, str, int, int)  # video, track, task, start, stop
    tracksChanged = Signal(str)  # video: tracks added or removed
    problem = Signal(str)  # a track that cannot be read (said once per track; the others still show)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.video: str | None = None
        self.annotator: str = ""
        self.stack = QUndoStack(self)
        self.unreadable: dict[tuple[str, str], str] = {}  # (video, track) -> the problem

    # --- project ---
    def set_project(self, project: Project | None) -> None:
        if self.project is not None:
            self.project.changed.disconnect(self._on_changed)
            self.project.tracks_changed.disconnect(self._on_tracks)
        self.stack.clear()
        self.project = project
        self.video = None
        self.unreadable = {}
        if project is not None:
            project.changed.connect(self._on_changed)
            project.tracks_changed.connect(self._on_tracks)
        self.projectChanged.emit()

    def _on_changed(self, video: str, track: str, task: str | None, start: int, stop: int) -> None:
        # core emits from whichever thread made the change; this Qt signal queues onto the GUI thread
        self.labelsChanged.emit(video, track, task or "", int(start), int(stop))

    def _on_tracks(self, video: str) -> None:
        self.tracksChanged.emit(video)

    @property
    def readonly(self) -> bool:
        return bool(getattr(self.project, "readonly", False))

    def set_video(self, video: str | None) -> None:
        if video == self.video:
            return
        self.video = video
        self.videoChanged.emit(video or "")

    def n_frames(self) -> int:
        if self.project is None or self.video is None:
            return 0
        return int(self.project.videos[self.video].frame_count)

    # --- annotator ---
    def set_annotator(self, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("an annotator needs a name")
        if self.project is not None and not self.readonly and name not in self.project.annotators:
            self.project.add_annotator(name)
        self.annotator = name
        self.annotatorChanged.emit(name)

    # --- tracks ---
    def track_name(self) -> str:
        """The current annotator's track on every video is named after the annotator."""
        return self.annotator

    def track(self, name: str | None = None, create: bool = True) -> Track | None:
        """A track of the current video (default: the annotator's own, created empty on first use)."""
        if self.project is None or self.video is None:
            return None
        name = name or self.track_name()
        if name in self.project.track_names(self.video):
            return self._read(name)
        if not create or self.readonly:
            return None
        return self.project.new_track(self.video, name, TrackSource.human(self.annotator))

    def _read(self, name: str) -> Track | None:
        """A track of the current video; None (said once through ``problem``) when its file is unreadable."""
        key = (self.video, name)
        if key in self.unreadable:
            return None
        try:
            return self.project.track(self.video, name)
        except AffectTraceError as e:
            self.unreadable[key] = str(e)
            self.problem.emit(str(e))
            return None

    def tracks(self) -> list[Track]:
        """The current video's readable tracks."""
        if self.project is None or self.video is None:
            return []
        return [t for t in map(self._read, self.project.track_names(self.video)) if t is not None]

    def human_tracks(self) -> list[Track]:
        return [t for t in self.tracks() if t.source.kind == TrackKind.HUMAN]

    # --- edits (all through the undo stack) ---
    def can_edit(self) -> bool:
        """A writable project, a video, an annotator, and their track readable (or not made yet)."""
        if self.project is None or self.video is None or self.readonly or not self.annotator:
            return False
        name = self.track_name()
        if name not in self.project.track_names(self.video):
            return True
        # a model or tool track named like the annotator is never theirs to edit
        return self.project.track_source(self.video, name).kind != TrackKind.MODEL and self._read(name) is not None

    def push(self, edits: Sequence[Edit], text: str | None = None, applied: bool = False) -> bool:
        if not self.can_edit():
            return False
        return push_edits(self.stack, self.project, edits, text, applied) is not None

    def set_labels(self, task: str, start: int, stop: int, value, columns: tuple[int, ...] | None = None,
                   fill: bool = False) -> list[Edit]:
        """Edits setting frames [start, stop) of the annotator's track (not yet pushed)."""
        t = self.track()
        stop = min(stop, t.n_frames)
        if stop <= start:
            return []
        return [set_range(self.video, t.name, task, start, stop, value, columns=columns, author=self.annotator,
                          fill=fill)]

    def clear_labels(self, task: str, start: int, stop: int, columns: tuple[int, ...] | None = None) -> list[Edit]:
        t = self.track()
        stop = min(stop, t.n_frames)
        if stop <= start:
            return []
        return [clear_range(self.video, t.name, task, start, stop, columns=columns,
                            n_columns=t.au.shape[1] if task in ("au", "au_intensity") else None,
                            author=self.annotator)]
