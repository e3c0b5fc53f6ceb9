"""What a controller may use of the application, typed: handed to controllers instead of the main window.

The main window builds one AppContext (``MainWindow.context``). The Engine menu and Training take only it;
EngineLoop takes the session, actions, docks, theme and runner from it and the window only for the in/out
marks, the player, the dock layout and switching videos. (ProjectControl still takes the window.) Themes
reach widgets one way: the current one from ``theme()``, later ones through ``theme_changed``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtWidgets import QDockWidget, QMainWindow

    from .actions import ActionRegistry
    from .jobs import JobRunner
    from .session import Session
    from .settings import Settings
    from .themes import Theme


@dataclass(frozen=True)
class AppContext:
    window: QMainWindow  # the parent of dialogs
    session: Session
    runner: JobRunner  # engine commands as child processes
    actions: ActionRegistry  # menus, shortcuts and their settings
    settings: Settings
    theme: Callable[[], Theme]  # the theme now
    theme_changed: SignalInstance  # emits the Theme once the window has applied it
    add_dock: Callable[..., QDockWidget]  # MainWindow.add_dock(widget, title, name, area, tabify_with, hidden)
    say: Callable[[str], None]  # a short notice in the status bar
