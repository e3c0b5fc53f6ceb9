"""The engine in the app: training (dialog, dashboard, runs, jobs) and the model side (pre-annotate,
compare, suggestions). One entry point for the main window:

    from app.engine import install
    menu, training = install(win.context)   # the "Engine" menu and the Training dock; jobs run in ctx.runner

and, in the window's closeEvent, ``if not runner_for(win).confirm_close(win): e.ignore(); return``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from .training import Training, install_training

if TYPE_CHECKING:
    from ..context import AppContext


def install(ctx: AppContext) -> tuple[QMenu, Training]:
    """Add the Engine menu and the Training dock; returns the menu and the Training controller."""
    menu = ctx.actions.menu("&Engine")
    menu.setObjectName("EngineMenu")
    return menu, install_training(ctx, menu)


__all__ = ["Training", "install", "install_training"]
