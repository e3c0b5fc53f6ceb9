"""The window's state as JSON for the real-window tests (tests/realwindow/): only where the environment
variable AFFECTTRACE_PROBE names a file. Those tests drive the app with real X key and mouse events and
read here what they cannot see from outside: where each text and number field, dock tab, menu item and
the status bar is on the screen, which widget has the keyboard, the playback position. Labels are never
read here (the tests read the saved project), except how many frames of each track the timeline draws
with VA, and the annotator list: what another annotator's window shows of one's edits (the team test).
Costs nothing unless the variable is set.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QRect, QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QMenu,
    QPushButton,
    QTabBar,
    QWidget,
)

from .key_filter import is_text_field

if TYPE_CHECKING:
    from .main_window import MainWindow

ENV = "AFFECTTRACE_PROBE"
INTERVAL_MS = 100


def _rect(w: QWidget, r: QRect | None = None) -> list[int]:
    """A widget's rectangle (or ``r`` in its coordinates) on the screen: [x, y, width, height]."""
    r = w.rect() if r is None else r
    p = w.mapToGlobal(r.topLeft())
    return [p.x(), p.y(), r.width(), r.height()]


def _shown_rect(w: QWidget) -> list[int] | None:
    """The part of ``w`` on screen (a scroll area may hide the rest), None when none of it is."""
    if not w.isVisible():
        return None
    region = w.visibleRegion()
    return None if region.isEmpty() else _rect(w, region.boundingRect())


def _dock_of(w: QWidget) -> QDockWidget | None:
    p = w.parentWidget()
    while p is not None and not isinstance(p, QDockWidget):
        p = p.parentWidget()
    return p


def _fields(win: "MainWindow") -> list[dict]:
    """Every text and number field of every dock (a spin box's or combo box's inner line edit is part of it)."""
    out: list[dict] = []
    for dock in win.findChildren(QDockWidget):
        k = 0
        for w in dock.findChildren(QWidget):
            if not is_text_field(w) or isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox)):
                continue
            out.append({"id": f"{dock.objectName()}/{type(w).__name__}#{k}", "dock": dock.objectName(),
                        "dock_title": dock.windowTitle(), "class": type(w).__name__, "tip": w.toolTip()[:80],
                        "enabled": w.isEnabled(), "rect": _shown_rect(w), "focus": w.hasFocus()})
            k += 1
    return out


def _buttons(win: "MainWindow") -> list[dict]:
    """The push buttons of every dock, where they are on screen (None: not in view)."""
    return [{"dock": dock.objectName(), "text": b.text(), "enabled": b.isEnabled(), "rect": _shown_rect(b),
             "whole": _shown_rect(b) is not None and _shown_rect(b)[2:] == [b.width(), b.height()]}
            for dock in win.findChildren(QDockWidget) for b in dock.findChildren(QPushButton)]


def _tabs(win: "MainWindow") -> list[dict]:
    out = []
    for bar in win.findChildren(QTabBar):
        if not bar.isVisible():
            continue
        for i in range(bar.count()):
            out.append({"text": bar.tabText(i), "current": i == bar.currentIndex(),
                        "rect": _rect(bar, bar.tabRect(i))})
    return out


def _menus(win: "MainWindow") -> list[dict]:
    """The menu bar's titles and the items of every open menu."""
    bar = win.menuBar()
    out = [{"menu": "", "text": a.text().replace("&", ""), "rect": _rect(bar, bar.actionGeometry(a))}
           for a in bar.actions() if a.isVisible()]
    for m in QApplication.topLevelWidgets():
        if isinstance(m, QMenu) and m.isVisible():
            out += [{"menu": m.title().replace("&", ""), "text": a.text().replace("&", ""), "enabled": a.isEnabled(),
                     "checked": a.isChecked(), "rect": _rect(m, m.actionGeometry(a))}
                    for a in m.actions() if a.isVisible() and not a.isSeparator()]
    return out


def state(win: "MainWindow") -> dict:
    """What the tests read (see the module's docstring)."""
    app = QApplication.instance()
    focus = app.focusWidget()
    modal = app.activeModalWidget()
    p, a, s = win.player, win.annot, win.session
    screen = win.screen()
    return {
        "pid": os.getpid(),
        "screen": [*screen.geometry().getRect()],
        "available": [*screen.availableGeometry().getRect()],
        "window": [*win.geometry().getRect()],
        "frame": [*win.frameGeometry().getRect()],
        "active": win.isActiveWindow(),
        "status_bar": _shown_rect(win.statusBar()),
        "theme": win.theme.name,
        "annotator": s.annotator,
        "project": str(s.project.folder) if s.project is not None else None,
        "making_demo": win.projects.demo_maker is not None and win.projects.demo_maker.busy,
        "agreement_shown": win.views.agreement.result is not None,
        "video": s.video,
        "undo_index": s.stack.index(),
        "position": p.position,
        "current": p.current,
        "playing": p.playing,
        "loop": list(p.loop) if p.loop else None,
        "marks": [a.mark_in, a.mark_out],
        "armed": a.armed,
        "joystick": [float(x) for x in win.views.joystick.value()],
        "video_rect": _shown_rect(win.views.video),
        "joystick_rect": _shown_rect(win.views.joystick),
        "focus": None if focus is None else {"class": type(focus).__name__, "field": is_text_field(focus),
                                             "joystick": focus is win.views.joystick},
        "modal": None if modal is None else {"title": modal.windowTitle(), "rect": _rect(modal)},
        "fields": _fields(win),
        "buttons": _buttons(win),
        "tabs": _tabs(win),
        "menus": _menus(win),
        "errors": list(win.errors),
        "team": _team(win),
    }


def _team(win: "MainWindow") -> dict:
    """What the window shows of the team: the annotator list, the VA-labelled frames the timeline draws per track."""
    tl, names = win.views.timeline, win.views.browser.annotators
    drawn = {} if tl is None else {n: int(np.isfinite(t.va[:, 0]).sum()) for n, t in tl._tracks.items()}
    return {"annotators": [names.item(i).text() for i in range(names.count())], "drawn_va": drawn,
            "lane": getattr(win.session.project, "lane", None)}


class Probe(QObject):
    """Writes ``state(win)`` to ``path`` whenever it changes (atomically: the reader never sees half)."""

    def __init__(self, win: "MainWindow", path: Path) -> None:
        super().__init__(win)
        self.win, self.path, self._last = win, path, ""
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.write)
        self.timer.start(INTERVAL_MS)

    def write(self) -> None:
        try:
            text = json.dumps(state(self.win))
        except RuntimeError:  # the window is being torn down
            return
        if text != self._last:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(text)
            os.replace(tmp, self.path)
            self._last = text


def install(win: "MainWindow") -> Probe | None:
    """Start the probe when AFFECTTRACE_PROBE names a file."""
    target = os.environ.get(ENV)
    return Probe(win, Path(target)) if target else None
