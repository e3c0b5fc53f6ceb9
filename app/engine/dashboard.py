"""The training dashboard: a run's loss and validation curves, throughput, ETA, device and memory, the best
epoch's confusion matrix and per-AU F1 — live from a job, or reopened from a run's events.jsonl.

Redraws are throttled (REDRAW_MS) so a run's events cost the player almost nothing."""
from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.runs import RunCurves

from ..jobs import Job
from ..themes import Theme
from .dashboard_plots import AUBars, ConfusionTable, LossPlot, MetricPlot

REDRAW_MS = 1000


def _duration(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "–"
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def status_text(run: RunCurves) -> str:
    """One line: epoch, step, images/s, ETA, device and memory as of the latest step."""
    st = run.last_step
    done, total = run.progress
    parts = [f"epoch {run.epoch_of}/{run.epochs_total or '?'}", f"step {done}/{total or '?'}"]
    if st:
        parts.append(f"{float(st.get('images_per_s') or 0):.0f} images/s")
        if run.status == "running":
            parts.append(f"ETA {_duration(st.get('eta_s'))}")
    if run.device:
        parts.append(run.device)
    mem = st.get("memory_mb") if st else None
    if isinstance(mem, (int, float)) and math.isfinite(mem):
        parts.append(f"{mem:.0f} MB" + (" peak GPU" if run.device.startswith("cuda") else " RSS"))
    return " · ".join(parts)


class Dashboard(QWidget):
    """``follow(job)`` shows a running training job; ``show_run(curves)`` a saved run;
    ``set_overlay(curves)`` draws another run's curves dashed on the same plots."""

    runFinished = Signal(str)  # run folder of a followed job that ended

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = RunCurves()
        self.other: RunCurves | None = None
        self.job: Job | None = None
        self.title = QLabel("No run shown. Engine → Train model… starts one; the Runs tab reopens old ones.")
        self.title.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.title.setWordWrap(True)
        self.recipe = QLabel("")
        self.recipe.setWordWrap(True)
        self.status = QLabel("")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        for label in (self.status, self.note):  # new text every step must not re-lay out (repaint) the plots
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setVisible(False)
        self.cancel = QPushButton("Stop training")
        self.cancel.setToolTip("Stops after the current step and keeps the run's last checkpoint "
                               "(press again to end the process at once)")
        self.cancel.setVisible(False)
        self.cancel.clicked.connect(self._cancel)
        self.loss, self.metrics = LossPlot(), MetricPlot()
        self._details_shown: dict | None = None
        self.confusion, self.au = ConfusionTable(), AUBars()
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw_steps)

    def hasHeightForWidth(self) -> bool:
        """No: the Training dock's scroll area would ask the wrapped labels' height for the width, which counts
        the plots at their preferred 480 px and leaves them cut in a short dock; at the dock's height they
        are seen whole (and scroll only below their minimum)."""
        return False

    def _build(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.cancel)
        # one row: the dock beside the timeline is short (a 1280x800 screen), the plots are seen whole
        body = QSplitter(Qt.Horizontal)
        for k, w in enumerate((self.loss, self.metrics, self.confusion, self.au)):
            body.addWidget(w)
            body.setStretchFactor(k, 3 if k < 2 else 2)
        grid = QGridLayout()
        grid.addWidget(self.status, 0, 0)
        grid.addWidget(self.bar, 0, 1)
        grid.setColumnStretch(0, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.recipe)
        lay.addLayout(grid)
        lay.addWidget(self.note)
        lay.addWidget(body, 1)

    # ------------------------------------------------------------------ sources
    def follow(self, job: Job) -> None:
        """Show a training job live (its events so far first)."""
        if self.job is not None:
            self.job.event.disconnect(self._on_event)
            self.job.finished.disconnect(self._on_finished)
        self.job = job
        self.run = RunCurves.from_events(job.events)
        job.event.connect(self._on_event)
        job.finished.connect(self._on_finished)
        self.cancel.setVisible(not job.done)
        self.bar.setVisible(not job.done)
        self.note.setText(job.error)
        if job.done:
            self.run.status = job.state
        self.redraw()

    def show_run(self, run: RunCurves) -> None:
        self._detach()
        self.run = run
        self.note.setText(run.error)
        self.redraw()

    def open_log(self, run_dir: str | Path) -> RunCurves:
        """Reopen a run from its saved events.jsonl."""
        run = RunCurves.from_log(run_dir)
        self.show_run(run)
        return run

    def set_overlay(self, other: RunCurves | None) -> None:
        self.other = other
        self.redraw()

    def _detach(self) -> None:
        if self.job is not None:
            self.job.event.disconnect(self._on_event)
            self.job.finished.disconnect(self._on_finished)
        self.job = None
        self.cancel.setVisible(False)
        self.bar.setVisible(False)

    def _on_event(self, ev: dict) -> None:
        self.run.add(ev)
        kind = ev.get("event")
        if kind == "progress":  # face caches made first: say so
            total = ev.get("total")
            self.note.setText(f"{ev.get('label', '')}: {ev.get('done', 0)}/{total if total else '?'}")
        elif kind == "message":
            self.note.setText(str(ev.get("text", "")))
        if kind in ("run", "epoch"):
            self.redraw()
        elif not self._timer.isActive():
            self._timer.start()  # steps: the loss and the status line, at most every REDRAW_MS

    def _on_finished(self, state: str) -> None:
        job = self.job
        self.cancel.setVisible(False)
        self.bar.setVisible(False)
        if job is not None and job.error:
            self.note.setText(job.error)
        self.run.status = state
        self.redraw()
        if self.run.run_dir:
            self.runFinished.emit(self.run.run_dir)

    def _cancel(self) -> None:
        if self.job is not None:
            self.cancel.setText("Stopping…" if not self.job.cancel_requested else "Stop training")
            self.job.cancel()

    # ------------------------------------------------------------------ drawing
    def showEvent(self, e: QShowEvent) -> None:
        super().showEvent(e)
        self.redraw()  # redraws are skipped while hidden

    def redraw_steps(self) -> None:
        """What each step changes: the status line, the progress bar and the loss curves."""
        if not self.isVisible():
            return
        run = self.run
        self.status.setText(status_text(run))
        done, total = run.progress
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.loss.show_run(run, self.other)

    def redraw(self) -> None:
        if not self.isVisible():
            return
        run = self.run
        name = run.run_id or (self.job.title if self.job is not None else "")
        self.title.setText(f"<b>{name}</b> — {run.status}" + (f" (best epoch {run.best_epoch})"
                                                               if run.best_epoch is not None else ""))
        over = f"<br>overlaid (dashed): <b>{self.other.run_id}</b> {self.other.recipe()}" if self.other else ""
        self.recipe.setText(run.recipe() + over)
        self.redraw_steps()
        self.metrics.show_run(run, self.other)
        if run.best_details is not self._details_shown:  # changes only with a better epoch
            self._details_shown = run.best_details
            self.confusion.show_details(run.best_details)
            self.au.show_details(run.best_details)
        if self.job is None and not self.cancel.isVisible():
            self.cancel.setText("Stop training")

    def apply_theme(self, t: Theme) -> None:
        for w in (self.loss, self.metrics, self.au, self.confusion):
            w.apply_theme(t)
        self.note.setStyleSheet(f"color: {t.muted};")
        self.confusion.show_details(self.run.best_details)
