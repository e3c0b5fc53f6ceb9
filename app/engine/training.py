"""Training in the main window: Engine → Train model… (the dialog), and a "Training" dock with the
dashboard, the project's runs and the job queue. Uses only plain QMainWindow methods plus the window's
``session`` (project and projectChanged)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QTabWidget, QWidget

from core.runs import RunCurves

from ..jobs import Job, JobRunner, runner_for
from ..themes import Theme, theme
from .dashboard import Dashboard
from .jobs_view import JobsView
from .runs_view import RunsView
from .train_dialog import TrainDialog


class TrainingDock(QDockWidget):
    """Tabs: Dashboard (the run followed or opened), Runs (the project's runs), Jobs (the queue)."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        self.setObjectName("TrainingDock")
        self.runner = runner
        self.dashboard = Dashboard()
        self.runs = RunsView()
        self.jobs = JobsView(runner)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.dashboard, "Dashboard")
        self.tabs.addTab(self.runs, "Runs")
        self.tabs.addTab(self.jobs, "Jobs")
        self.setWidget(self.tabs)
        self.runs.showRun.connect(self.open_run)
        self.runs.overlayRuns.connect(self.overlay_runs)
        self.dashboard.runFinished.connect(lambda _d: self.runs.refresh())
        runner.jobStarted.connect(self._job_started)

    def follow(self, job: Job) -> None:
        self.dashboard.follow(job)
        self.show()
        self.raise_()
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


class _ThemeFollower(QObject):
    """Re-themes the dock when the application palette changes (the window's set_theme)."""

    def __init__(self, win: QMainWindow, dock: TrainingDock) -> None:
        super().__init__(dock)
        self.win, self.dock = win, dock
        dock.installEventFilter(self)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if ev.type() == QEvent.ApplicationPaletteChange:
            QTimer.singleShot(0, self.apply)  # after the window has recorded its new theme
        return False

    def apply(self) -> None:
        self.dock.apply_theme(window_theme(self.win))


def window_theme(win: Any) -> Theme:
    t = getattr(win, "theme", None)
    return t if isinstance(t, Theme) else theme("light")


class Training(QObject):
    """What install_training adds to a window; kept as a child of the window."""

    def __init__(self, win: QMainWindow, menu: QMenu) -> None:
        super().__init__(win)
        self.setObjectName("Training")
        self.win = win
        self.runner = runner_for(win)
        self.dock = TrainingDock(self.runner, win)
        win.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.apply_theme(window_theme(win))
        _ThemeFollower(win, self.dock)
        self.train_action = QAction("&Train model…", win)
        self.train_action.setShortcut("Ctrl+Shift+T")
        self.train_action.triggered.connect(self.open_dialog)
        menu.addAction(self.train_action)
        view = self.dock.toggleViewAction()
        view.setText("Training &dashboard")
        menu.addAction(view)
        session = getattr(win, "session", None)
        if session is not None:
            session.projectChanged.connect(self._project_changed)
        self._project_changed()

    def project(self) -> Any:
        session = getattr(self.win, "session", None)
        return getattr(session, "project", None)

    def _project_changed(self) -> None:
        p = self.project()
        self.train_action.setEnabled(p is not None)
        self.dock.set_project_folder(getattr(p, "folder", None))

    def open_dialog(self) -> TrainDialog | None:
        p = self.project()
        if p is None:
            return None
        dlg = TrainDialog(p, self.runner, self.win)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.started.connect(self.dock.follow)
        dlg.open()
        return dlg


def install_training(win: QMainWindow, menu: QMenu) -> Training:
    return Training(win, menu)
