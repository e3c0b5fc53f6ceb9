"""Parts of the train dialog: which videos train and which validate, and what the presets cost here
(parameter count and training images/s on this device, from `affecttrace models --device D [--measure P]`
run as a job: the GUI never imports torch and never waits for it)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from core.data.splits import assign_splits, normalise_split

from ..jobs import Job, JobRunner

if TYPE_CHECKING:
    from core.project import Project

USES = ("Train", "Validation", "Not used")
VISIBLE_ROWS = 6  # more videos scroll


class VideoSplitTable(QTableWidget):
    """One row per video: frames, labelled tracks, face cache, and a Train / Validation / Not used choice.
    Defaults: the project's split; when nothing validates and there are several videos, whole videos are
    held out by subject (core.data.splits.assign_splits)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(["Video", "Frames", "Faces", "Use"])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.NoEditTriggers)
        self.videos: list[str] = []

    def set_videos(self, project: Project, without_faces: list[str]) -> None:
        self.videos = list(project.videos)
        uses = default_uses(project)
        self.setRowCount(len(self.videos))
        for r, v in enumerate(self.videos):
            entry = project.videos[v]
            self.setItem(r, 0, QTableWidgetItem(v))
            self.setItem(r, 1, QTableWidgetItem(str(entry.frame_count)))
            self.setItem(r, 2, QTableWidgetItem("to make first" if v in without_faces else "ready"))
            combo = QComboBox()
            combo.addItems(USES)
            combo.setCurrentText(uses[v])
            self.setCellWidget(r, 3, combo)
        rows = min(len(self.videos), VISIBLE_ROWS)
        self.resizeRowsToContents()
        height = sum(self.rowHeight(r) for r in range(rows)) if rows else 24
        self.setFixedHeight(height + self.horizontalHeader().sizeHint().height() + 2 * self.frameWidth() + 6)

    def use(self, video: str) -> str:
        return self.cellWidget(self.videos.index(video), 3).currentText()

    def set_use(self, video: str, use: str) -> None:
        self.cellWidget(self.videos.index(video), 3).setCurrentText(use)

    def chosen(self, use: str) -> list[str]:
        return [v for v in self.videos if self.use(v) == use]


def default_uses(project: Project) -> dict[str, str]:
    split = {v: normalise_split(e.split or "train") for v, e in project.videos.items()}
    if len(split) > 1 and "val" not in split.values():
        split.update(assign_splits({v: e.subject for v, e in project.videos.items() if split[v] == "train"}))
    return {v: "Validation" if s == "val" else "Train" if s == "train" else "Not used" for v, s in split.items()}


class PresetProbe(QObject):
    """Parameter counts and cached training speeds of the presets on a device, and a short measurement
    of one preset when asked. Figures are kept for the session (per device) so reopening is instant."""

    updated = Signal()
    _known: dict[str, dict[str, Any]] = {}  # device spec -> {"presets": {...}, "device": resolved}

    def __init__(self, busy: JobRunner | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # its own queue (never behind a training job), owned by the app's runner: it outlives the dialog
        self.runner = JobRunner(busy if busy is not None else self)
        self.jobs: list[Job] = []
        self.busy = busy  # the app's runner: no speed measurement while it trains (the figure would lie)
        self.device_spec = "auto"
        self.measuring: str | None = None
        self.error = ""

    @property
    def info(self) -> dict[str, Any]:
        return self._known.get(self.device_spec, {})

    def preset(self, name: str) -> dict[str, Any]:
        return self.info.get("presets", {}).get(name, {})

    def load(self, device: str) -> None:
        self.device_spec = device
        if device in self._known:
            self.updated.emit()
            return
        self._submit(["models", "--device", device])

    def measure(self, preset: str) -> bool:
        """Measure a preset's training speed in the background; False when not now (another job runs)."""
        if self.measuring or (self.busy is not None and self.busy.busy) or not self.info:
            return False
        self.measuring = preset
        self._submit(["models", "--device", self.device_spec, "--measure", preset])
        self.updated.emit()
        return True

    def _submit(self, argv: list[str]) -> None:
        spec = self.device_spec
        job = self.runner.submit(argv, "preset figures")
        job.result.connect(lambda res, spec=spec: self._got(spec, res))
        job.failed.connect(self._failed)
        self.jobs.append(job)

    def _got(self, spec: str, res: dict[str, Any]) -> None:
        self._known[spec] = {"device": res.get("device", spec), "device_name": res.get("device_name", ""),
                             "presets": {r["name"]: r for r in res.get("presets", [])}}
        self.measuring = None
        self.updated.emit()

    def _failed(self, why: str) -> None:
        self.error, self.measuring = why, None
        self.updated.emit()

    def shutdown(self) -> None:
        """The dialog closes: stop the probes and forget their answers."""
        for job in self.jobs:
            if not job.done:
                job.result.disconnect()
                job.failed.disconnect()
        self.runner.cancel_all()
