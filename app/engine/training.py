"""Training in the main window: Engine → Train model… (the dialog), and a "Training" dock with the
dashboard, the project's runs and the job queue. Uses only plain QMainWindow methods plus the window's
``session`` (project and projectChanged)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QTabWidget, QVBoxLayout, QWidget

from core.runs import RunCurves

from ..jobs import Job, JobRunner, runner_for
from ..themes import Theme, theme
from .dashboard import Dashboard
from .jobs_view import JobsView
from .runs_view import RunsView
from .train_dialog import TrainDialog

if TYPE_CHECKING:
    from core.project import Project


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


class _ThemeFollower(QObject):
    """Re-themes the panel when the application palette changes (the window's set_theme)."""

    def __init__(self, win: QMainWindow, panel: TrainingPanel) -> None:
        super().__init__(panel)
        self.win, self.panel = win, panel
        panel.installEventFilter(self)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if ev.type() == QEvent.ApplicationPaletteChange:
            QTimer.singleShot(0, self.apply)  # after the window has recorded its new theme
        return False

    def apply(self) -> None:
        self.panel.apply_theme(window_theme(self.win))


def window_theme(win: QObject) -> Theme:
    t = getattr(win, "theme", None)
    return t if isinstance(t, Theme) else theme("light")


class Training(QObject):
    """What install_training adds to a window (kept as its child): the Engine menu's Train model… and
    Training dashboard, and the Training dock. Uses the window's add_dock / registry where it has them
    (app.main_window.MainWindow), else plain QMainWindow methods."""

    def __init__(self, win: QMainWindow, menu: QMenu) -> None:
        super().__init__(win)
        self.setObjectName("Training")
        self.win = win
        self.runner = runner_for(win)
        self.panel = TrainingPanel(self.runner)
        self.dock = _dock(win, self.panel)  # hidden until a run is followed (or its saved place shows it)
        self.panel.apply_theme(window_theme(win))
        _ThemeFollower(win, self.panel)
        self.train_action = _action(win, menu, "engine.train", "&Train model…", self.open_dialog, "Ctrl+Shift+T",
                                    "Train a model on this project's labels (a job: the app stays usable)")
        view = self.dock.toggleViewAction()
        view.setText("Training &dashboard")
        menu.addAction(view)
        session = getattr(win, "session", None)
        if session is not None:
            session.projectChanged.connect(self._project_changed)
        self._project_changed()

    def project(self) -> Project | None:
        session = getattr(self.win, "session", None)
        return getattr(session, "project", None)

    def _project_changed(self) -> None:
        p = self.project()
        self.train_action.setEnabled(p is not None)
        self.panel.set_project_folder(getattr(p, "folder", None))

    def follow(self, job: Job) -> None:
        self.panel.follow(job)
        self.dock.show()
        self.dock.raise_()

    def open_dialog(self) -> TrainDialog | None:
        p = self.project()
        if p is None:
            return None
        dlg = TrainDialog(p, self.runner, self.win, settings=getattr(self.win, "settings", None))
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.started.connect(self.follow)
        dlg.open()
        return dlg


def _dock(win: QMainWindow, panel: QWidget) -> QDockWidget:
    add_dock = getattr(win, "add_dock", None)
    if add_dock is not None:
        return add_dock(panel, "Training", "training", hidden=True)
    dock = QDockWidget("Training", win)
    dock.setObjectName("training")
    dock.setWidget(panel)
    dock.hide()
    win.addDockWidget(Qt.RightDockWidgetArea, dock)
    return dock


def _action(win: QMainWindow, menu: QMenu, key: str, text: str, fn: Callable[[], object], shortcut: str,
            tip: str) -> QAction:
    registry = getattr(win, "registry", None)
    if registry is not None:
        try:
            return registry.add(key, text, fn, shortcut, menu, tip=tip)
        except ValueError:  # the shortcut is taken: the action without it
            return registry.add(key, text, fn, None, menu, tip=tip)
    action = QAction(text, win)
    action.setShortcut(shortcut)
    action.setStatusTip(tip)
    action.triggered.connect(fn)
    menu.addAction(action)
    return action


def install_training(win: QMainWindow, menu: QMenu) -> Training:
    return Training(win, menu)
