"""Accept a model's labels into the current annotator's track: the in/out range, or every frame the model
is confident about; one undo step (Session.push of core.accept's edits), then corrected as usual."""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from core.accept import accept_edits
from core.labels import TASKS

from .model_choice import refill_model_combo

TASK_TEXT = {"va": "Valence-arousal", "expr": "Expression", "au": "Action units"}
DEFAULT_CONFIDENCE = 0.8


def accept_model_labels(session: Any, model: str, tasks: tuple[str, ...], frames: tuple[int, int] | None,
                        min_confidence: float | None, only_unlabelled: bool) -> str:
    """Push the accept edits for the session's video as one undo step; returns what happened, in words."""
    if not session.can_edit():
        return "This project cannot be edited here (read-only, or no annotator)."
    m = session.track(model, create=False)
    if m is None:
        return f"No model track {model!r} on this video."
    target = session.track()
    start, stop = frames if frames is not None else (0, target.n_frames)
    edits = accept_edits(m, target, tasks, start, stop, min_confidence, only_unlabelled, session.annotator)
    if not edits:
        return "Nothing to accept there (no prediction, or none confident enough)."
    lo, hi = min(e.start for e in edits), max(e.stop for e in edits)
    how = f"confidence ≥ {min_confidence:.2f}" if min_confidence is not None else "range"
    session.push(edits, text=f"accept {model} ({how}) frames {lo}-{hi - 1}")
    return f"Accepted {model}'s {', '.join(e.task for e in edits)} labels on frames {lo}-{hi - 1} ({how})."


class AcceptPanel(QWidget):
    """Model track, tasks, where (in/out range or above a confidence), and an Accept button."""

    accepted = Signal(str)  # the status text after an accept

    def __init__(self, session: Any, marked_range: Callable[[], tuple[int, int] | None] = lambda: None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.marked_range = session, marked_range
        lay = QVBoxLayout(self)  # one column: it fits a narrow dock
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        self.model = QComboBox()
        self.model.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(10)
        form.addRow("Model track", self.model)
        tasks = QVBoxLayout()
        self.task_boxes = {t: QCheckBox(TASK_TEXT[t]) for t in TASKS}
        for box in self.task_boxes.values():
            box.setChecked(True)
            tasks.addWidget(box)
        form.addRow("Labels", tasks)
        self.mode = QButtonGroup(self)
        self.in_range = QRadioButton("In/out range")
        self.confident = QRadioButton("Confidence at least")
        self.confident.setToolTip("Every frame where the model's confidence is at least this")
        self.mode.addButton(self.in_range, 0)
        self.mode.addButton(self.confident, 1)
        self.in_range.setChecked(True)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.5, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(DEFAULT_CONFIDENCE)
        row = QHBoxLayout()
        row.addWidget(self.confident)
        row.addWidget(self.threshold)
        row.addStretch(1)
        form.addRow("Where", self.in_range)
        form.addRow("", row)
        self.within = QCheckBox("only inside in/out")
        self.within.setEnabled(False)
        self.confident.toggled.connect(self.within.setEnabled)
        form.addRow("", self.within)
        self.only_unlabelled = QCheckBox("Keep my labels")
        self.only_unlabelled.setToolTip("Fill only the frames your track leaves unlabelled")
        form.addRow("", self.only_unlabelled)
        lay.addLayout(form)
        self.button = QPushButton("Accept model labels")
        self.button.clicked.connect(self.accept)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.button)
        lay.addWidget(self.status)
        lay.addStretch(1)
        session.videoChanged.connect(lambda _v: self.refresh())
        session.tracksChanged.connect(lambda _v: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        refill_model_combo(self.model, self.session)
        self.button.setEnabled(self.model.count() > 0)
        self.status.setText("" if self.model.count() else "No model track on this video: pre-annotate it first.")

    def accept(self) -> bool:
        tasks = tuple(t for t, b in self.task_boxes.items() if b.isChecked())
        if not tasks:
            self.status.setText("Choose at least one kind of label.")
            return False
        confident = self.confident.isChecked()
        use_range = not confident or self.within.isChecked()
        frames = self.marked_range() if use_range else None
        if use_range and frames is None:
            self.status.setText("Mark in (I) and out (O) first.")
            return False
        before = self.session.stack.count()
        text = accept_model_labels(self.session, self.model.currentText(), tasks, frames,
                                   self.threshold.value() if confident else None, self.only_unlabelled.isChecked())
        self.status.setText(text)
        done = self.session.stack.count() > before
        if done:
            self.accepted.emit(text)
        return done
