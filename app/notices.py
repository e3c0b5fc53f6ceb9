"""What the window tells the user about problems and the project's state: the banner above the video,
the status bar, an error dialog (or stderr for scripts), and the start page's message."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable

from PySide6.QtWidgets import QMainWindow

from . import dialogs

if TYPE_CHECKING:
    from core.project import Project

    from .layout import WindowViews


def project_notes(project: "Project") -> list[str]:
    """The banner's lines for a project just opened: read-only and why, recovered edits, warnings, missing media."""
    notes = []
    if project.readonly:
        why = project.readonly_reason or f"open elsewhere ({project.lock_holder or 'another process'})"
        notes.append(f"Read-only: {why}. You can look, but labels cannot be changed.")
    if project.recovered:
        notes.append(f"Recovered {project.recovered} unsaved edit(s) from the journal after an unclean exit; "
                     "they are shown below and will be kept at the next save.")
    for w in project.warnings[:3]:
        if not (project.readonly_reason and project.readonly_reason in str(w)):  # said above
            notes.append(str(w))
    missing = [name for name in project.videos if project.is_missing(name)]
    if missing:
        notes.append(f"Media missing for {len(missing)} video(s): right-click in the Project list to relocate.")
    return notes


class Notices:
    def __init__(self, win: QMainWindow, views: "WindowViews", interactive: bool,
                 nothing_open: Callable[[], bool], start_page: Callable[[str], None]) -> None:
        self.win, self.v, self.interactive = win, views, interactive
        self.nothing_open, self.start_page = nothing_open, start_page
        self.errors: list[str] = []  # every problem reported (scripts check it)

    def error(self, text: str) -> None:
        """A problem that stopped something: a dialog when interactive, stderr for scripts (--screenshot);
        the status bar, and the start page when nothing is open."""
        self.errors.append(text)
        if self.interactive:
            dialogs.warn(self.win, text)
        else:
            print(f"affecttrace-gui: {text}", file=sys.stderr)
        self.win.statusBar().showMessage(text, 10000)
        if self.nothing_open():
            self.start_page(text)

    def problem(self, text: str) -> None:
        """A problem that does not stop the work (e.g. one unreadable track): a banner line, no dialog."""
        self.errors.append(text)
        if not self.interactive:
            print(f"affecttrace-gui: {text}", file=sys.stderr)
        b = self.v.banner
        if text not in b.text():
            b.setText(f"{b.text()}\n{text}".strip())
        b.show()
        self.win.statusBar().showMessage(text, 10000)

    def show_project(self, project: "Project") -> None:
        notes = project_notes(project)
        self.v.banner.setText("\n".join(notes))
        self.v.banner.setVisible(bool(notes))
