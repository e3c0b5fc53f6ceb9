"""The engine in the app: training (dialog, dashboard, runs, jobs) and the model side (pre-annotate,
compare, suggestions). One entry point for the main window:

    from app.engine import install
    engine = install(win)        # adds the "Engine" menu and its docks; jobs run in runner_for(win)

and, in the window's closeEvent, ``if not runner_for(win).confirm_close(win): e.ignore(); return``.
"""
from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QMenu

from .training import Training, install_training


def install(win: QMainWindow) -> QMenu:
    """Add the Engine menu with everything under it; returns the menu."""
    registry = getattr(win, "registry", None)  # app.main_window.MainWindow's; a plain window: its menu bar
    menu = registry.menu("&Engine") if registry is not None else win.menuBar().addMenu("&Engine")
    menu.setObjectName("EngineMenu")
    install_training(win, menu)
    return menu


__all__ = ["Training", "install", "install_training"]
