"""Helpers for the engine-in-the-app tests: a small demo project with face caches (made once per session and
copied), and a plain QMainWindow with the engine installed on a project it holds open, as the app does."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from tests.nn_demo import make_demo_project

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_TEMPLATE: dict[str, Path] = {}


def engine_demo(tmp_root: Path, dest: Path, seconds: float = 6.0) -> Path:
    """A copy of a ``seconds`` demo project (video 'demo', annotators ann1-3, track 'truth', face caches)."""
    key = f"demo{seconds}"
    tpl = _TEMPLATE.get(key)
    if tpl is None or not tpl.exists():
        tpl = make_demo_project(tmp_root / f"engine_{key}", seconds=seconds)
        _TEMPLATE[key] = tpl
    shutil.copytree(tpl, dest, ignore=shutil.ignore_patterns(".lock", "lock.json"))
    return dest


def _liveness_file(rel: str, name: str) -> bool:
    """Files that say who is working now, not what is labelled: the project lock, lease files and their
    heartbeats (core/project/lease.py), which move while the project is open whatever a job does."""
    from core.project.lanefiles import LEASES_DIR
    from core.project.lock import INFO_NAME, LOCK_NAME

    return (rel.startswith(LEASES_DIR + "/") or name in (LOCK_NAME, INFO_NAME) or name.endswith(".lease")
            or ".lease.beat-" in name or ".lease.taken-" in name)


def annotations_digest(folder: Path) -> str:
    """A digest of everything that holds labels (manifest, tracks, journal): 'no other effect' checks."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and not rel.startswith(("models/", "cache/")) and not _liveness_file(rel, p.name):
            h.update(rel.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def engine_window(qtbot, folder: Path):
    """(window, Training) on ``folder``: a plain QMainWindow with an application context (app/context.py)
    whose real Session holds the project open, as the app does (jobs open it read-only)."""
    from PySide6.QtCore import QObject, Qt, Signal
    from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

    from app.actions import ActionRegistry
    from app.context import AppContext
    from app.engine import install
    from app.jobs import runner_for
    from app.session import Session
    from app.settings import Settings
    from app.themes import theme
    from core.project import open_project

    class Themes(QObject):
        changed = Signal(object)

    win = QMainWindow()
    qtbot.addWidget(win)
    win.session = Session(win)

    def add_dock(widget, title, name, area=Qt.RightDockWidgetArea, tabify_with=None, hidden=False):
        dock = QDockWidget(title, win)
        dock.setObjectName(name)
        dock.setWidget(widget)
        win.addDockWidget(area, dock)
        dock.setVisible(not hidden)
        return dock

    ctx = AppContext(win, win.session, runner_for(win), ActionRegistry(win), Settings(), lambda: theme("light"),
                     Themes(win).changed, add_dock, lambda text: win.statusBar().showMessage(text))
    win.setCentralWidget(QLabel("player"))
    _menu, training = install(ctx)
    win.session.set_project(open_project(folder))  # holds the lock, as the app does: jobs open it read-only
    win.resize(1280, 800)
    win.show()
    return win, training
