"""Accept a model's labels into the current annotator's track: the in/out range, or every frame the model
is confident about. Like every engine action it runs as its command, `affecttrace accept --plan-out`, through
the job runner; the plan it writes becomes one undo step here (Session.push), then corrected as usual."""
from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

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

from core.accept import AcceptPlan, load_plan
from core.errors import AffectTraceError
from core.labels import TASKS
from core.words import EndState

from ..jobs import Job, JobRunner
from .model_choice import refill_model_combo

if TYPE_CHECKING:
    from ..session import Session

TASK_TEXT = {"va": "Valence-arousal", "expr": "Expression", "au": "Action units"}
DEFAULT_CONFIDENCE = 0.8


ACCEPT_CACHE = "accept"  # the plans of `accept --plan-out`, inside the project, removed once read


def accept_argv(folder: Path, video: str, annotator: str, model: str, tasks: tuple[str, ...],
                frames: tuple[int, int] | None, min_confidence: float | None, keep_labels: bool,
                plan_out: Path) -> list[str]:
    argv = ["accept", str(folder), "--model", model, "--video", video, "--annotator", annotator,
            "--plan-out", str(plan_out)]
    for t in tasks:
        argv += ["--task", t]
    if frames is not None:
        argv += ["--frames", f"{frames[0]}:{frames[1]}"]
    if min_confidence is not None:
        argv += ["--min-confidence", f"{min_confidence:g}"]
    return argv + (["--keep-labels"] if keep_labels else [])


def push_plan(session: Session, plan: AcceptPlan, keep_labels: bool, how: str) -> str:
    """The plan's edits of the session's own copy of the track (its labels as they are now), pushed as one
    undo step; returns what happened, in words."""
    project = session.project
    if project is None or not session.can_edit() or plan.track != session.annotator:
        return "This project cannot be edited here any more (closed, read-only, or another annotator)."
    if project.has_track(plan.video, plan.track):
        target = project.track(plan.video, plan.track)
    elif plan.video == session.video:
        target = session.track()
    else:
        return f"Video {plan.video!r} is no longer shown: accept there again."
    if target is None:
        return f"The track {plan.track!r} cannot be read; nothing was accepted."
    edits = [e for e in (p.edit(target, session.annotator, keep_labels) for p in plan.parts) if e is not None]
    if not edits:
        return "Nothing to accept there (no prediction, or none confident enough)."
    lo, hi = min(e.start for e in edits), max(e.stop for e in edits)
    session.push(edits, text=f"accept {plan.model} ({how}) frames {lo}-{hi - 1}")
    return f"Accepted {plan.model}'s {', '.join(e.task for e in edits)} labels on frames {lo}-{hi - 1} ({how})."


class AcceptPanel(QWidget):
    """Model track, tasks, where (in/out range or above a confidence), and an Accept button."""

    accepted = Signal(str)  # the status text after an accept

    def __init__(self, session: Session, runner: JobRunner,
                 marked_range: Callable[[], tuple[int, int] | None] = lambda: None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.runner, self.marked_range = session, runner, marked_range
        self.job: Job | None = None
        self.last_plan: AcceptPlan | None = None  # the last accept pushed (the Train dialog proposes from it)
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
        self.button.setEnabled(self.model.count() > 0 and (self.job is None or self.job.done))
        self.status.setText("" if self.model.count() else "No model track on this video: pre-annotate it first.")

    def accept(self) -> Job | None:
        """Run `affecttrace accept --plan-out` for the form; its plan is pushed when it arrives. None: the form
        says why not."""
        s = self.session
        tasks = tuple(t for t, b in self.task_boxes.items() if b.isChecked())
        if not tasks:
            self.status.setText("Choose at least one kind of label.")
            return None
        confident = self.confident.isChecked()
        use_range = not confident or self.within.isChecked()
        frames = self.marked_range() if use_range else None
        if use_range and frames is None:
            self.status.setText("Mark in (I) and out (O) first.")
            return None
        if s.project is None or s.video is None or not s.can_edit():
            self.status.setText("This project cannot be edited here (read-only, or no annotator).")
            return None
        threshold = self.threshold.value() if confident else None
        how = f"confidence ≥ {threshold:.2f}" if threshold is not None else "range"
        keep = self.only_unlabelled.isChecked()
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        plan_file = Path(s.project.cache_dir(ACCEPT_CACHE)) / f"accept-{stamp}.npz"
        argv = accept_argv(Path(s.project.folder), s.video, s.annotator, self.model.currentText(), tasks, frames,
                           threshold, keep, plan_file)
        self.job = job = self.runner.submit(argv, title=f"Accept {self.model.currentText()} on {s.video}")
        self.button.setEnabled(False)
        self.status.setText("Accepting…")
        job.finished.connect(lambda state: self._arrived(job, state, plan_file, keep, how))
        return job

    def _arrived(self, job: Job, state: str, plan_file: Path, keep: bool, how: str) -> None:
        try:
            if state != EndState.FINISHED:
                self.status.setText(job.error or f"Accept {state}.")
                return
            try:
                plan = load_plan(plan_file)
            except AffectTraceError as e:
                self.status.setText(f"Nothing accepted: {e}")
                return
            before = self.session.stack.count()
            text = push_plan(self.session, plan, keep, how)
            self.status.setText(text)
            if self.session.stack.count() > before:
                self.last_plan = plan
                self.accepted.emit(text)
        finally:
            plan_file.unlink(missing_ok=True)
            self.button.setEnabled(self.model.count() > 0)
