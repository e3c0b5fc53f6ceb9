"""Training in the main window: Engine → Train model… (the dialog), and a "Training" dock with the
dashboard, the project's runs and the job queue. Uses the application context (app/context.py) only."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMenu, QTabWidget, QVBoxLayout, QWidget

from core.runs import RunCurves

from ..jobs import Job, JobRunner
from ..themes import Theme
from .dashboard import Dashboard
from .jobs_view import JobsView
from .runs_view import RunsView
from .train_dialog import TrainDialog

if TYPE_CHECKING:
    from core.project import Project

    from ..context import AppContext


class TrainingPanel(QWidget):
    """Tabs: Dashboard (the run followed or opened), Runs (the project's runs), Jobs (the queue)."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.dashboard = Dashboard()
        self.runs = RunsView()
        self.jobs = JobsView(runner)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.dashboard, "Dashboard")
        self.tabs.addTab(self.runs, "Runs")
        self.tabs.addTab(self.jobs, "Jobs")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs)
        self.runs.showRun.connect(self.open_run)
        self.runs.overlayRuns.connect(self.overlay_runs)
        self.dashboard.runFinished.connect(lambda _d: self.runs.refresh())
        runner.jobStarted.connect(self._job_started)

    def follow(self, job: Job) -> None:
        self.dashboard.follow(job)
        self.tabs.setCurrentWidget(self.dashboard)

    def _job_started(self, job: Job) -> None:
        if job.command == "train" and (self.dashboard.job is None or self.dashboard.job.done):
            self.dashboard.follow(job)
        self.runs.refresh()

    def open_run(self, run_dir: str) -> None:
        self.dashboard.open_log(run_dir)
        self.dashboard.set_overlay(None)
        self.tabs.setCurrentWidget(self.dashboard)

    def overlay_runs(self, shown: str, other: str) -> None:
        self.dashboard.open_log(shown)
        self.dashboard.set_overlay(RunCurves.from_log(other))
        self.tabs.setCurrentWidget(self.dashboard)

    def set_project_folder(self, folder: str | Path | None) -> None:
        self.runs.set_project_folder(folder)

    def apply_theme(self, t: Theme) -> None:
        self.dashboard.apply_theme(t)


class Training(QObject):
    """What install_training adds (kept as a child of the window): the Engine menu's Train model… and
    Training dashboard, and the Training dock."""

    def __init__(self, ctx: AppContext, menu: QMenu) -> None:
        super().__init__(ctx.window)
        self.setObjectName("Training")
        self.ctx = ctx
        self.runner = ctx.runner
        self.panel = TrainingPanel(self.runner)
        # hidden until a run is followed (or its saved place shows it)
        self.dock = ctx.add_dock(self.panel, "Training", "training", hidden=True)
        self.panel.apply_theme(ctx.theme())
        ctx.theme_changed.connect(self.panel.apply_theme)
        tip = "Train a model on this project's labels (a job: the app stays usable)"
        try:
            self.train_action = ctx.actions.add("engine.train", "&Train model…", self.open_dialog, "Ctrl+Shift+T",
                                                menu, tip=tip)
        except ValueError:  # the shortcut is taken: the action without it
            self.train_action = ctx.actions.add("engine.train", "&Train model…", self.open_dialog, None, menu, tip=tip)
        view = self.dock.toggleViewAction()
        view.setText("Training &dashboard")
        menu.addAction(view)
        ctx.session.projectChanged.connect(self._project_changed)
        self._project_changed()

    def project(self) -> Project | None:
        return self.ctx.session.project

    def _project_changed(self) -> None:
        p = self.project()
        self.train_action.setEnabled(p is not None)
        self.panel.set_project_folder(p.folder if p is not None else None)

    def follow(self, job: Job) -> None:
        self.panel.follow(job)
        self.dock.show()
        self.dock.raise_()

    def open_dialog(self) -> TrainDialog | None:
        p = self.project()
        if p is None:
            return None
        dlg = TrainDialog(p, self.runner, self.ctx.window, settings=self.ctx.settings)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.started.connect(self.follow)
        dlg.open()
        return dlg


def install_training(ctx: AppContext, menu: QMenu) -> Training:
    return Training(ctx, menu)
