"""The job queue as a table: each engine job's title, state and progress, with Stop for the running one
and the failure message of a failed one."""
from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTableWidgetItem, QVBoxLayout, QWidget

from ..jobs import Job, JobRunner
from .table import read_only_table

REFRESH_MS = 500


def progress_text(job: Job) -> str:
    """What the latest event says of the job's progress."""
    for ev in reversed(job.events):
        kind = ev.get("event")
        if kind == "step":
            return f"epoch {ev.get('epoch')}/{ev.get('epochs')}, step {ev.get('step')}/{ev.get('total_steps')}"
        if kind == "progress":
            total = ev.get("total")
            return f"{ev.get('label', '')} {ev.get('done', 0)}/{total}" if total else str(ev.get("label", ""))
    return ""


class JobsView(QWidget):
    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.table = read_only_table(["Job", "State", "Progress", "Message"])
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Stop the selected job (a training run keeps its last checkpoint); a queued job "
                             "is dropped")
        self.stop.clicked.connect(self._stop)
        clear = QPushButton("Clear finished")
        clear.clicked.connect(self._clear)
        row = QHBoxLayout()
        row.addWidget(self.stop)
        row.addWidget(clear)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.table, 1)
        self.shown: list[Job] = []
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        runner.jobAdded.connect(self._added)
        runner.jobFinished.connect(lambda _j: self.refresh())
        for job in runner.jobs:
            self._added(job)

    def _added(self, job: Job) -> None:
        self.shown.append(job)
        job.stateChanged.connect(lambda _s: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        self.table.setRowCount(len(self.shown))
        for r, job in enumerate(self.shown):
            cells = (job.title, job.state, progress_text(job), job.error)
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    self.table.setItem(r, c, QTableWidgetItem(text))
                elif item.text() != text:
                    item.setText(text)
            self.table.item(r, 3).setToolTip(job.error)
        active = any(not j.done for j in self.shown)
        if active and not self._timer.isActive():
            self._timer.start()
        elif not active:
            self._timer.stop()

    def _stop(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        for r in rows:
            self.shown[r].cancel()

    def _clear(self) -> None:
        self.shown = [j for j in self.shown if not j.done]
        self.refresh()
