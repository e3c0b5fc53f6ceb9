"""What a controller may use of the application, typed: handed to controllers instead of the main window.

The main window builds one AppContext (``MainWindow.context``): the Engine menu and Training take only it.
Controllers of the annotation window itself (ProjectControl, EngineLoop and its timeline overlays, the team's
TeamControl, CampaignControl and MergeCopy) take a WindowContext (``MainWindow.window_context``): the AppContext
plus the player, the window's views, notices, the in/out marks and the few window-level steps they start (show
a video or a project, save, place a dock, redraw the tracks and the project list). No controller holds the
main window. Themes reach widgets one way: the current one from ``theme()``, later
ones through ``theme_changed``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from PySide6.QtCore import Qt, SignalInstance
    from PySide6.QtWidgets import QDockWidget, QMainWindow

    from core.project import Project

    from .actions import ActionRegistry
    from .controls import Controls
    from .jobs import JobRunner
    from .layout import WindowViews
    from .notices import Notices
    from .player import Player
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


@dataclass(frozen=True)
class WindowContext:
    app: AppContext
    player: Player  # the shown video's playback
    views: WindowViews  # every widget of the window (app/layout.py)
    notices: Notices  # errors and problems, told to the person
    controls: Controls  # what the keys do (jumps, the agreement strip they follow)
    interactive: bool  # False for scripts (--screenshot): nothing is asked
    marked_range: Callable[[], tuple[int, int] | None]  # the in/out marks, when both are set
    show_video: Callable[[str], None]  # switch to that video of the open project
    save_quietly: Callable[[], bool]  # save the open project (a job reads it from disk); False when not saved
    reload_faces: Callable[[], None]  # a job made the shown video's face cache: draw the overlay from it
    # a dock into that area as a tab of the named one, unless the saved layout placed it
    place_dock: Callable[[QDockWidget, Qt.DockWidgetArea, str], None]
    set_project: Callable[[Project], None]  # show this opened project (a lane opened again, a take-over)
    finish_work: Callable[[], None]  # recording passes and held keys written, position remembered
    refresh_tracks: Callable[[], None]  # the shown video's track list and labels drawn again
    refresh_browser: Callable[[], None]  # the Project panel's videos and annotators listed again
