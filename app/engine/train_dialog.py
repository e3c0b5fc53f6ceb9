"""The train dialog: a model preset (with its size and speed here), tasks, the labels to learn from, the
training and validation videos, epochs, batch, device, AMP, start weights and seed — run as one
`affecttrace train PROJECT --config FILE --events` job (which first makes the missing face caches with the
backend chosen here). The form starts from TrainConfig()'s defaults and hands the child a TrainConfig file."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.errors import AffectTraceError
from core.faces.pipeline import videos_without_faces
from core.labels import TASKS
from core.nn.config import EACH_ANNOTATOR, TrainConfig
from core.nn.presets import PRESETS
from core.runs import list_runs
from core.tracks import TrackKind
from core.words import AMP_CHOICES, DEFAULT_VAL_BLOCKS, DEVICE_CHOICES, FACE_BACKENDS

from ..jobs import Job, JobRunner
from .model_choice import run_text
from .train_inputs import PresetProbe, VideoSplitTable
from .train_memory import SettingsStore, proposal, remember_form, remembered_form

if TYPE_CHECKING:
    from core.project import Project

TASK_NAMES = {"va": "Valence-arousal", "expr": "Expressions", "au": "Action units"}


def label_sources(project: Project) -> list[tuple[str, str]]:
    """(text, --label-track value): fused tracks, 'each annotator', then each annotator's own track."""
    fused, human = set(), set()
    for v in project.videos:
        for name in project.track_names(v):
            kind = project.track_source(v, name).kind
            (fused if kind == TrackKind.FUSED else human if kind == TrackKind.HUMAN else set()).add(name)
    out = [(f"Fused track '{n}'", n) for n in sorted(fused)]
    if len(human) > 1:
        out.append(("Each annotator (every annotator's labels as samples)", EACH_ANNOTATOR))
    out += [(f"Annotator '{n}'", n) for n in sorted(human)]
    return out


class TrainDialog(QDialog):
    started = Signal(object)  # the Job

    def __init__(self, project: Project, runner: JobRunner, parent: QWidget | None = None,
                 settings: SettingsStore | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a model")
        self.project, self.runner, self.settings = project, runner, settings
        self.folder = Path(project.folder)
        self.missing_faces = videos_without_faces(project, list(project.videos))
        self.probe = PresetProbe(runner, self)
        self.probe.updated.connect(self._show_preset)
        self._build()
        if settings is not None:
            self.apply_choices(remembered_form(settings, self.folder))
            self.apply_proposal(proposal(settings, self.folder))
        self.probe.load(str(self.device.currentData()))

    # ------------------------------------------------------------------ form
    def _build(self) -> None:
        form = QFormLayout()
        self.preset = QComboBox()
        self.preset.addItems(sorted(PRESETS, key=lambda n: not PRESETS[n].cpu))  # CPU-sized ones first
        defaults = TrainConfig()
        self.preset.setCurrentText(defaults.preset)
        self.preset.currentTextChanged.connect(lambda _t: self._show_preset())
        self.preset_info = QLabel("…")
        self.measure_btn = QPushButton("Measure speed")
        self.measure_btn.setToolTip("A few training steps on generated images, on the device chosen below")
        self.measure_btn.clicked.connect(lambda: self.probe.measure(self.preset.currentText()))
        row = QHBoxLayout()
        row.addWidget(self.preset)
        row.addWidget(self.preset_info, 1)
        row.addWidget(self.measure_btn)
        form.addRow("Model", row)
        self.tasks = {t: QCheckBox(TASK_NAMES[t]) for t in TASKS}
        row = QHBoxLayout()
        for box in self.tasks.values():
            box.setChecked(True)
            row.addWidget(box)
        form.addRow("Tasks", row)
        self.labels = QComboBox()
        for text, value in label_sources(self.project):
            self.labels.addItem(text, value)
        form.addRow("Labels", self.labels)
        self.videos = VideoSplitTable()
        self.videos.set_videos(self.project, self.missing_faces)
        form.addRow("Videos", self.videos)
        self.by_videos = QRadioButton("the videos marked Validation")
        self.by_blocks = QRadioButton("time blocks of the training videos:")
        self.block_share = QSpinBox()
        self.block_share.setRange(5, 50)
        self.block_share.setValue(round(DEFAULT_VAL_BLOCKS * 100))
        self.block_share.setSuffix(" %")
        (self.by_blocks if len(self.project.videos) == 1 or not self.videos.chosen("Validation")
         else self.by_videos).setChecked(True)
        row = QHBoxLayout()
        for w in (self.by_videos, self.by_blocks, self.block_share):
            row.addWidget(w)
        row.addStretch(1)
        form.addRow("Validate on", row)
        self.epochs, self.batch, self.max_steps, self.seed = QSpinBox(), QSpinBox(), QSpinBox(), QSpinBox()
        for box, lo, hi, value in ((self.epochs, 1, 1000, defaults.epochs), (self.batch, 0, 4096, defaults.batch_size),
                                   (self.max_steps, 0, 10**6, defaults.max_steps_per_epoch),
                                   (self.seed, 0, 2**31 - 1, defaults.seed)):
            box.setRange(lo, hi)
            box.setValue(value)
        self.max_steps.setSpecialValueText("all")
        self.batch.setSpecialValueText("auto")
        self.batch.setToolTip("Samples per step; auto: the preset and device decide")
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 10.0)
        self.lr.setSingleStep(1e-4)
        self.lr.setValue(defaults.lr)
        row = QHBoxLayout()
        for text, w in (("Epochs", self.epochs), ("Batch", self.batch), ("Steps/epoch", self.max_steps),
                        ("Learning rate", self.lr), ("Seed", self.seed)):
            row.addWidget(QLabel(text))
            row.addWidget(w)
        form.addRow("Schedule", row)
        self.device, self.amp = QComboBox(), QComboBox()
        self.device.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        for d in DEVICE_CHOICES:
            self.device.addItem(d, d)
        self.device.setCurrentIndex(max(0, self.device.findData(defaults.device)))
        self.device.currentIndexChanged.connect(lambda _i: self.probe.load(self.device.currentData()))
        self.amp.addItems(list(AMP_CHOICES))
        self.amp.setCurrentText(defaults.amp)
        self.amp.setToolTip("auto: bf16 on CUDA, none on the CPU")
        row = QHBoxLayout()
        for text, w in (("Device", self.device), ("Mixed precision", self.amp)):
            row.addWidget(QLabel(text))
            row.addWidget(w)
        row.addStretch(1)
        form.addRow("Hardware", row)
        self.start_from = QComboBox()
        self.start_from.addItem("Scratch (random weights)", "")
        self.start_from.addItem("Pretrained backbone file…", "file")
        for run in list_runs(self.folder):
            if (run.path / "best.pt").is_file():  # heads kept where the classes match (train --finetune)
                self.start_from.addItem(f"Fine-tune run {run_text(run.run_id, run.status)}", f"run:{run.path}")
        self.start_from.activated.connect(self._start_from_chosen)
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("torchvision ResNet/VGG, VGG-FACE or AffectTrace .pt")
        self.weights.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.start_from)
        row.addWidget(self.weights, 1)
        form.addRow("Start from", row)
        self.backend = QComboBox()
        self.backend.addItems(list(FACE_BACKENDS))
        if (self.folder / "ground_truth.h5").is_file():
            self.backend.setCurrentText("reference")  # the demo's drawn landmarks
        self.backend.setToolTip("Face caches are made first for the videos marked 'to make first'")
        self.backend_label = QLabel(f"Faces missing for {len(self.missing_faces)} video(s); backend")
        row = QHBoxLayout()
        row.addWidget(self.backend_label)
        row.addWidget(self.backend)
        row.addStretch(1)
        self.backend_row = QWidget()
        self.backend_row.setLayout(row)
        self.backend_row.setVisible(bool(self.missing_faces))
        form.addRow(self.backend_row)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.train_btn = buttons.addButton("Train", QDialogButtonBox.AcceptRole)
        buttons.accepted.connect(self.start)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)

    # ------------------------------------------------------------------ remembered choices
    def choices(self) -> dict:
        """The form's choices as remembered between openings (app/engine/train_memory.py)."""
        return {"preset": self.preset.currentText(), "tasks": [t for t, b in self.tasks.items() if b.isChecked()],
                "labels": self.labels.currentData(), "val_blocks": self.by_blocks.isChecked(),
                "block_share": self.block_share.value(), "epochs": self.epochs.value(), "batch": self.batch.value(),
                "max_steps": self.max_steps.value(), "lr": self.lr.value(), "seed": self.seed.value(),
                "device": self.device.currentData(), "amp": self.amp.currentText(),
                "start_from": self.start_from.currentData(), "weights": self.weights.text(),
                "backend": self.backend.currentText()}

    def apply_choices(self, d: dict) -> None:
        """Set the form from remembered choices; a value this project or version no longer offers is skipped."""
        for key, combo in (("preset", self.preset), ("amp", self.amp), ("backend", self.backend)):
            if isinstance(d.get(key), str) and combo.findText(d[key]) >= 0:
                combo.setCurrentText(d[key])
        for key, combo in (("labels", self.labels), ("device", self.device), ("start_from", self.start_from)):
            if isinstance(d.get(key), str) and combo.findData(d[key]) >= 0:
                with QSignalBlocker(combo):  # the device's presets are read once, after the form is set
                    combo.setCurrentIndex(combo.findData(d[key]))
        if isinstance(d.get("tasks"), list) and d["tasks"]:
            for t, box in self.tasks.items():
                box.setChecked(t in d["tasks"])
        for key, box in (("block_share", self.block_share), ("epochs", self.epochs), ("batch", self.batch),
                         ("max_steps", self.max_steps), ("seed", self.seed), ("lr", self.lr)):
            if isinstance(d.get(key), (int, float)) and not isinstance(d[key], bool):
                box.setValue(d[key])
        if isinstance(d.get("val_blocks"), bool):
            (self.by_blocks if d["val_blocks"] or not self.videos.chosen("Validation") else self.by_videos
             ).setChecked(True)
        if isinstance(d.get("weights"), str):
            self.weights.setText(d["weights"])
        self.weights.setVisible(self.start_from.currentData() == "file")

    def apply_proposal(self, d: dict) -> None:
        """After an accept: the track holding the accepted frames, fine-tuned from the run that made them."""
        if isinstance(d.get("labels"), str) and self.labels.findData(d["labels"]) >= 0:
            self.labels.setCurrentIndex(self.labels.findData(d["labels"]))
        run = d.get("finetune_run")
        for i in range(self.start_from.count()):
            data = str(self.start_from.itemData(i))
            if run and data.startswith("run:") and Path(data[4:]).name == run:
                self.start_from.setCurrentIndex(i)
                self.weights.setVisible(False)

    def _start_from_chosen(self) -> None:
        if self.start_from.currentData() != "file":
            self.weights.setVisible(False)
            return
        self.weights.setVisible(True)
        if self.isVisible() and not self.weights.text():
            path, _ = QFileDialog.getOpenFileName(self, "Pretrained weights", str(self.folder),
                                                  "Weights (*.pt *.pth *.pth.tar);;All files (*)")
            self.weights.setText(path)

    def _show_preset(self) -> None:
        name = self.preset.currentText()
        info, probe = self.probe.preset(name), self.probe
        if not probe.info:
            self.preset_info.setText(probe.error or "reading the presets…")
            return
        device = probe.info.get("device", "")
        rate = info.get("train_images_per_s")
        speed = (f"~{rate:,.0f} training images/s on {device}" if rate else
                 f"measuring on {device}…" if probe.measuring == name else f"speed on {device} not measured yet")
        self.preset_info.setText(f"{info.get('parameters', 0):,} parameters · {speed}")
        self.preset_info.setToolTip(info.get("description", ""))
        self.measure_btn.setEnabled(not probe.measuring)
        if self.device.currentData() == "auto":
            self.device.setItemText(0, f"auto ({device})")
        if not rate and not probe.measuring:
            probe.measure(name)

    # ------------------------------------------------------------------ the command
    def config(self) -> TrainConfig:
        """The run's settings: the form over TrainConfig()'s defaults; ValueError with a sentence when it
        cannot train."""
        tasks = [t for t, box in self.tasks.items() if box.isChecked()]
        if not tasks:
            raise ValueError("Choose at least one task.")
        if self.labels.count() == 0:
            raise ValueError("This project has no labels to train on yet.")
        train = self.videos.chosen("Train")
        if not train:
            raise ValueError("Mark at least one video as Train.")
        settings = {"preset": self.preset.currentText(), "tasks": tasks, "label_track": str(self.labels.currentData()),
                    "train_split": list(train), "epochs": self.epochs.value(), "batch_size": self.batch.value(),
                    "max_steps_per_epoch": self.max_steps.value(), "lr": self.lr.value(),
                    "device": str(self.device.currentData()), "amp": self.amp.currentText(), "seed": self.seed.value()}
        if self.by_blocks.isChecked():
            settings["val_blocks"] = self.block_share.value() / 100
        else:  # no video marked Validation: the engine holds out time blocks (core.words.DEFAULT_VAL_BLOCKS)
            settings["val_split"] = list(self.videos.chosen("Validation"))
        if self.start_from.currentData() == "file":
            if not self.weights.text().strip():
                raise ValueError("Choose the pretrained weights file, or start from scratch.")
            settings["pretrained"] = self.weights.text().strip()
        try:
            return TrainConfig.from_dict(settings)
        except AffectTraceError as e:
            raise ValueError(str(e)) from None

    def argv(self, config_file: str | Path) -> list[str]:
        """`affecttrace train` arguments: the project, the settings file, and what is not a setting (the run
        to fine-tune, resolved by the command; the face backend for the missing caches)."""
        argv = ["train", str(self.folder), "--config", str(config_file)]
        start = str(self.start_from.currentData())
        if start.startswith("run:"):
            argv += ["--finetune", start[4:]]
        validation = set() if self.by_blocks.isChecked() else set(self.videos.chosen("Validation"))
        if (set(self.videos.chosen("Train")) | validation) & set(self.missing_faces):
            argv += ["--faces-backend", self.backend.currentText()]
        return argv

    def start(self) -> Job | None:
        """Queue the training job and close; the dashboard follows it (``started``)."""
        try:
            cfg = self.config()
        except ValueError as e:
            self.error.setText(str(e))
            return None
        # the settings file lives until the job ends (it may wait in the queue behind another job)
        with tempfile.NamedTemporaryFile("w", prefix="affecttrace-train-", suffix=".toml", delete=False) as f:
            config_file = Path(f.name)
        cfg.save(config_file)
        if self.settings is not None:
            remember_form(self.settings, self.folder, self.choices())
        job = self.runner.submit(self.argv(config_file), f"Train {self.preset.currentText()} on {self.project.name}")
        job.finished.connect(lambda _state: config_file.unlink(missing_ok=True))
        self.started.emit(job)
        self.probe.shutdown()
        self.accept()
        return job

    def reject(self) -> None:
        self.probe.shutdown()
        super().reject()
