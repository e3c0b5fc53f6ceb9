"""Suggestions: the segments of the current video most worth labelling next (core.suggest: model doubt,
disagreement with the people's reference, unlabelled frames), as a list (click to jump) and a "next
suggested" action; ``score`` is the per-frame array for a timeline strip."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.agreement.report import video_fps
from core.compare import Segment
from core.suggest import Suggestions, next_suggested, suggest_from, suggestion_inputs
from core.words import SEGMENT_SECONDS, SUGGESTION_COUNT

from ..background import Background, Task
from .model_choice import refill_model_combo

if TYPE_CHECKING:
    from ..session import Session

NO_MODEL = "(none: unlabelled frames only)"


class SuggestionsView(QWidget):
    seekRequested = Signal(str, int)  # video, frame
    resultShown = Signal()  # segments and score of the current video shown (or cleared)

    def __init__(self, session: Session, current_frame: Callable[[], int] = lambda: 0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.current_frame = session, current_frame
        self.segments: list[Segment] = []
        self.score: np.ndarray | None = None
        self.video: str | None = None
        self.bg: Background = Background(self)
        form = QFormLayout()
        self.model = QComboBox()
        self.count = QSpinBox()
        self.count.setRange(1, 200)
        self.count.setValue(SUGGESTION_COUNT)
        self.seconds = QSpinBox()
        self.seconds.setRange(1, 60)
        self.seconds.setValue(round(SEGMENT_SECONDS))
        self.seconds.setSuffix(" s")
        form.addRow("Model track", self.model)
        form.addRow("Segments", self.count)
        form.addRow("Length", self.seconds)
        self.update_button = QPushButton("Suggest")
        self.next_button = QPushButton("Next suggested")
        self.list = QListWidget()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.update_button)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.next_button)
        lay.addWidget(self.status)
        self.next_action = QAction("Next suggested segment", self)
        self.next_action.triggered.connect(self.next_suggested)
        self.update_button.clicked.connect(lambda _checked=False: self.suggest())
        self.next_button.clicked.connect(self.next_suggested)
        self.list.itemClicked.connect(self._jump)
        session.videoChanged.connect(lambda _v: self.refresh())
        session.tracksChanged.connect(lambda _v: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        refill_model_combo(self.model, self.session, [NO_MODEL])
        s = self.session
        self.update_button.setEnabled(s.project is not None and bool(s.video))
        if self.video != s.video:
            self.list.clear()
            self.segments, self.score, self.video = [], None, None
            self.next_button.setEnabled(False)
            self.next_action.setEnabled(False)
            self.resultShown.emit()

    def params(self) -> tuple[str | None, int, float]:
        """(model track or None, segment count, segment seconds) as chosen in the view."""
        model = self.model.currentText()
        return (None if model in (NO_MODEL, "") else model), self.count.value(), float(self.seconds.value())

    def suggest(self, then: Callable[[], object] | None = None) -> Task | None:
        """Compute the current video's suggestions off the GUI thread, on copies of its tracks taken here;
        shown when they arrive (``resultShown``), then ``then()`` runs. None: no video to suggest on."""
        s = self.session
        if s.project is None or not s.video:
            return None
        model, count, seconds = self.params()
        inputs = suggestion_inputs(s.project, s.video, model, annotator=s.annotator or None).copied()
        video = s.video
        self.status.setText("Suggesting…")
        self.update_button.setEnabled(False)

        def arrived(res: Suggestions | None, error: str) -> None:
            self.update_button.setEnabled(s.project is not None and bool(s.video))
            if res is None:
                self.status.setText(f"Could not suggest: {error}")
                return
            self.show_result(res, video)
            if then is not None and self.video == video:
                then()

        return self.bg.submit(lambda: suggest_from(inputs, count, segment_s=seconds), arrived, key="suggest")

    def show_result(self, res: Suggestions, video: str) -> None:
        """Show suggestions computed for ``video`` (here, or elsewhere from the same ``params()``)."""
        s = self.session
        if s.project is None or video != s.video:
            return
        self.segments, self.score, self.video = res.segments, res.score, video
        fps = video_fps(s.project, video)
        self.list.clear()
        for seg in self.segments:
            item = QListWidgetItem(f"{seg.start / fps:8.2f}–{seg.stop / fps:.2f} s   score {seg.score:.2f}")
            item.setData(Qt.UserRole, seg.start)
            self.list.addItem(item)
        what = f"model {res.model}" if res.model else "no model"
        self.status.setText(f"{len(self.segments)} segments ({what}, reference {res.reference or 'none'})")
        self.next_button.setEnabled(bool(self.segments))
        self.next_action.setEnabled(bool(self.segments))
        self.resultShown.emit()

    def _jump(self, item: QListWidgetItem) -> None:
        if self.video is not None:
            self.seekRequested.emit(self.video, int(item.data(Qt.UserRole)))

    def next_suggested(self) -> Segment | None:
        """Jump to the first suggested segment after the shown frame (wrapping to the earliest)."""
        seg = next_suggested(self.segments, self.current_frame())
        if seg is not None and self.video is not None:
            self.list.setCurrentRow(self.segments.index(seg))
            self.seekRequested.emit(self.video, seg.start)
        return seg
