"""Pre-annotate: run a trained model over the current video, the selected videos, or every video without
labels, as `affecttrace predict --events` jobs of the window's job runner (app/jobs).

The app holds the project's lock, so the job opens it read-only and writes the model tracks to a track
file under cache/predictions (`predict --tracks-out`); the Preannotator imports that file into the open
project on the GUI thread when the job's result arrives (it outlives the dialog that started it).
Videos without a face cache get an `affecttrace faces` job first, queued before the prediction.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.modeltracks import read_prediction_file, unlabelled_videos
from core.runs import list_runs
from core.words import DEVICE_CHOICES, FACE_BACKENDS, EndState

from .model_choice import run_text

if TYPE_CHECKING:
    from core.project import Project

    from ..jobs import Job, JobRunner
    from ..session import Session

SCOPES = ("current", "selected", "unlabelled")
SCOPE_TEXT = {"current": "Current video", "selected": "Selected videos", "unlabelled": "Every video without labels"}
PREDICTIONS_CACHE = "predictions"
QUEUED_FORMAT = "queued"


def file_text(path: str | Path) -> str:
    """A checkpoint file as the Model list shows it: its folder and name (every run has a best.pt)."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


@dataclass
class PreannotateRequest:
    folder: Path
    checkpoint: str  # a run id under models/ or a checkpoint file
    scope: str  # one of SCOPES
    videos: list[str]  # the videos the scope covers (for 'unlabelled': as found when asked)
    track_name: str = ""  # '' = predict's default, model-<run>
    smooth: int = 0
    device: str = "auto"
    faces_backend: str = "auto"


def scope_videos(project: Project, scope: str, current: str | None, selected: Sequence[str] = ()) -> list[str]:
    """The videos a scope covers in the project as it is now."""
    if scope == "current":
        return [current] if current else []
    if scope == "selected":
        return [v for v in selected if v in project.videos]
    if scope == "unlabelled":
        return unlabelled_videos(project)
    raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")


def lacking_faces(project: Project, videos: Sequence[str]) -> list[str]:
    from core.faces import face_cache_path

    return [v for v in videos if not face_cache_path(project, v).exists()]


def predict_argv(req: PreannotateRequest, tracks_out: Path) -> list[str]:
    """The `affecttrace` arguments of the prediction job (the runner adds --events)."""
    argv = ["predict", str(req.folder), "--checkpoint", req.checkpoint, "--tracks-out", str(tracks_out),
            "--device", req.device, "--smooth", str(int(req.smooth))]
    if req.track_name:
        argv += ["--track-name", req.track_name]
    if req.scope == "unlabelled":
        return argv + ["--unlabelled"]
    for v in req.videos:
        argv += ["--video", v]
    return argv


def faces_argv(req: PreannotateRequest, videos: Sequence[str]) -> list[str]:
    argv = ["faces", str(req.folder), "--backend", req.faces_backend]
    for v in videos:
        argv += ["--video", v]
    return argv


def imported_text(tracks: Sequence[tuple[str, str]]) -> str:
    """What a finished pre-annotation wrote: 'model track NAME added to N video(s): a, b'."""
    names = sorted({name for _v, name in tracks})
    videos = [v for v, _n in tracks]
    shown = ", ".join(videos[:3]) + (f" and {len(videos) - 3} more" if len(videos) > 3 else "")
    return f"model track {', '.join(names)} added to {len(videos)} video(s): {shown}"


class Preannotator(QObject):
    """Submits pre-annotation jobs and imports their model tracks into the session's project."""

    imported = Signal(list)  # [(video, track name)] put into the project
    failed = Signal(str)  # one line

    def __init__(self, session: Session, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent if parent is not None else runner)
        self.session, self.runner = session, runner
        self.jobs: list[Job] = []

    def start(self, req: PreannotateRequest) -> list[Job]:
        """Queue the jobs of a request (faces first where caches are missing); returns them."""
        project = self.session.project
        if project is None or self.session.readonly:
            raise ValueError("open a project you can edit first")
        if not req.videos:
            raise ValueError("no video to pre-annotate in this choice")
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        out = Path(project.cache_dir(PREDICTIONS_CACHE)) / f"predict-{stamp}.h5"
        jobs: list[Job] = []
        missing = lacking_faces(project, req.videos)
        if missing:
            jobs.append(self.runner.submit(faces_argv(req, missing), title=f"Faces of {len(missing)} video(s)"))
        job = self.runner.submit(predict_argv(req, out), title=f"Pre-annotate {len(req.videos)} video(s)")
        job.result.connect(lambda data, path=out: self._import(path))
        job.failed.connect(self.failed.emit)
        if jobs:  # no faces, no prediction: one message, not two
            jobs[0].failed.connect(self.failed.emit)
            jobs[0].finished.connect(lambda state, j=job: state != "finished" and j.cancel())
        jobs.append(job)
        self.jobs += jobs
        return jobs

    def _import(self, path: Path) -> None:
        project = self.session.project
        if project is None or self.session.readonly:
            self.failed.emit(f"the project was closed before the model tracks arrived; they are in {path}")
            return
        try:
            tracks = read_prediction_file(path)
            for t in tracks:
                project.put_track(t)
            project.save()
        except Exception as e:  # a damaged file or a full disk: say so, keep the window
            self.failed.emit(f"could not import the model tracks: {e}")
            return
        path.unlink(missing_ok=True)
        self.imported.emit([(t.video, t.name) for t in tracks])


class PreannotateDialog(QDialog):
    """Choose the model, the videos and the options; the jobs run on after the dialog closes."""

    def __init__(self, session: Session, preannotator: Preannotator, selected: Sequence[str] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pre-annotate with a model")
        self.session, self.pre, self.selected = session, preannotator, list(selected)
        self.jobs: list[Job] = []
        self.done_text = ""
        self.files: list[str] = []  # checkpoint files chosen with File…, kept in the list
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.scope_buttons = QButtonGroup(self)
        scope_box = QVBoxLayout()
        for i, s in enumerate(SCOPES):
            b = QRadioButton()
            b.setObjectName(f"scope_{s}")
            self.scope_buttons.addButton(b, i)
            scope_box.addWidget(b)
        form.addRow("Videos", scope_box)
        run_row = QHBoxLayout()
        self.run_combo = QComboBox()
        self.run_combo.setMinimumContentsLength(24)
        browse = QPushButton("File…")
        browse.clicked.connect(self._browse)
        run_row.addWidget(self.run_combo, 1)
        run_row.addWidget(browse)
        form.addRow("Model", run_row)
        self.track_edit = QLineEdit()
        self.track_edit.setPlaceholderText("model-<run>")
        form.addRow("Track name", self.track_edit)
        self.smooth = QSpinBox()
        self.smooth.setRange(0, 301)
        self.smooth.setSuffix(" frames")
        self.smooth.setSpecialValueText("none")
        form.addRow("Smoothing", self.smooth)
        self.device = QComboBox()
        self.device.addItems(DEVICE_CHOICES)
        form.addRow("Device", self.device)
        self.backend = QComboBox()
        self.backend.addItems(FACE_BACKENDS)
        self.faces_note = QLabel()
        self.faces_note.setWordWrap(True)
        form.addRow("Face finder", self.backend)
        form.addRow("", self.faces_note)
        lay.addLayout(form)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)
        buttons = QDialogButtonBox()
        self.run_button = buttons.addButton("Run", QDialogButtonBox.AcceptRole)
        self.cancel_button = buttons.addButton("Stop", QDialogButtonBox.ActionRole)
        self.cancel_button.setEnabled(False)
        buttons.addButton(QDialogButtonBox.Close)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.stop)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.scope_buttons.idToggled.connect(lambda *_a: self._update())
        self.pre.imported.connect(self._imported)
        self.pre.failed.connect(self._failed)
        self.refresh()

    # ------------------------------------------------------------------ state
    def refresh(self) -> None:
        """Re-read the runs, counts and face caches of the project."""
        p = self.session.project
        keep = self.run_combo.currentData()
        self.run_combo.clear()
        if p is not None:
            for r in list_runs(p.folder):
                if (r.path / "best.pt").is_file() or (r.path / "last.pt").is_file():
                    self.run_combo.addItem(run_text(r.run_id, r.status, r.best.get("val_score")), r.run_id)
                    self.run_combo.setItemData(self.run_combo.count() - 1, str(r.path), Qt.ToolTipRole)
        for path in self.files:
            self.run_combo.addItem(file_text(path), path)
            self.run_combo.setItemData(self.run_combo.count() - 1, path, Qt.ToolTipRole)
        if keep is not None and self.run_combo.findData(keep) >= 0:
            self.run_combo.setCurrentIndex(self.run_combo.findData(keep))
        if p is not None:
            demo = (Path(p.folder) / "ground_truth.h5").exists()
            self.backend.setCurrentText("reference" if demo else "auto")
        for i, s in enumerate(SCOPES):
            n = len(self._videos(s))
            b = self.scope_buttons.button(i)
            b.setText(f"{SCOPE_TEXT[s]} ({n})" if s != "current" else
                      f"{SCOPE_TEXT[s]} ({self.session.video or 'none'})")
            b.setEnabled(n > 0)
        first = next((i for i in range(len(SCOPES)) if self.scope_buttons.button(i).isEnabled()), 0)
        self.scope_buttons.button(first).setChecked(True)
        self._update()

    def scope(self) -> str:
        return SCOPES[max(0, self.scope_buttons.checkedId())]

    def _videos(self, scope: str) -> list[str]:
        p = self.session.project
        return [] if p is None else scope_videos(p, scope, self.session.video, self.selected)

    def _update(self) -> None:
        p = self.session.project
        missing = lacking_faces(p, self._videos(self.scope())) if p is not None else []
        self.backend.setEnabled(bool(missing))
        self.faces_note.setText(f"{len(missing)} video(s) have no face cache: faces are found first."
                                if missing else "Every chosen video has its face cache.")
        self.run_button.setEnabled(p is not None and not self.session.readonly and self.run_combo.count() > 0
                                   and bool(self._videos(self.scope())))
        if p is not None and self.run_combo.count() == 0:
            self.status.setText("No trained model in this project yet: train one first, or choose a file.")

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model checkpoint", "", "Checkpoints (*.pt)")
        if path:
            self.choose_file(path)

    def choose_file(self, path: str) -> None:
        """A checkpoint file as the model: listed with its folder, kept in the list across refreshes."""
        if path not in self.files:
            self.files.append(path)
            self.run_combo.addItem(file_text(path), path)
            self.run_combo.setItemData(self.run_combo.count() - 1, path, Qt.ToolTipRole)
        self.run_combo.setCurrentIndex(self.run_combo.findData(path))
        self._update()

    def request(self) -> PreannotateRequest:
        p = self.session.project
        return PreannotateRequest(Path(p.folder), str(self.run_combo.currentData()), self.scope(),
                                  self._videos(self.scope()), self.track_edit.text().strip(), self.smooth.value(),
                                  self.device.currentText(), self.backend.currentText())

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        self.done_text = ""
        try:
            self.jobs = self.pre.start(self.request())
        except ValueError as e:
            self.status.setText(str(e))
            return
        for job in self.jobs:  # bound methods: disconnected when the dialog is closed (deleted)
            job.progress.connect(self._progress)
            job.stateChanged.connect(self._state)
        self.bar.setVisible(True)
        self.bar.setRange(0, 1)  # empty while queued; a busy bar once a job runs without a total
        self.bar.setValue(0)
        self.bar.setFormat(QUEUED_FORMAT)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("Queued: " + " → ".join(j.title for j in self.jobs))

    def stop(self) -> None:
        for job in self.jobs:
            if not job.done:
                job.cancel()

    def _progress(self, ev: dict) -> None:
        total, done = ev.get("total"), int(ev.get("done") or 0)
        if total:
            self.bar.setFormat("%p%")
            self.bar.setRange(0, int(total))
            self.bar.setValue(done)
        self.status.setText(f"{ev.get('label', '')}: {done}" + (f"/{total}" if total else ""))

    def _state(self, state: str) -> None:
        job = self.sender()
        if state == "running":
            self.status.setText(f"{job.title}…")
            if self.bar.format() == QUEUED_FORMAT:
                self.bar.setFormat("%p%")
                self.bar.setRange(0, 0)
        if all(j.done for j in self.jobs):
            self.bar.setVisible(False)
            self.cancel_button.setEnabled(False)
            self._update()
            if state == EndState.CANCELLED:
                self.status.setText("Stopped; nothing was changed.")
            elif state == EndState.FINISHED and self.done_text:
                self.status.setText(self.done_text)

    def _imported(self, tracks: list) -> None:
        self.done_text = f"Done: {imported_text(tracks)}."
        self.status.setText(self.done_text)
        self.refresh()

    def _failed(self, text: str) -> None:
        self.status.setText(text)
        self.bar.setVisible(False)
        self.cancel_button.setEnabled(False)
        self._update()
