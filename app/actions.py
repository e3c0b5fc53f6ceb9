"""Actions, menus and keyboard shortcuts of the main window: one registry.

Every menu action with a shortcut is registered here, so the shortcuts sheet lists exactly what the
keys do, and a shortcut used twice (or one the hold-key filter takes) is refused when it is added
(Qt would otherwise report "Ambiguous shortcut overload" and do nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from .keys import held_keys
from .widgets.joystick import MODE_LABELS

if TYPE_CHECKING:
    from .main_window import MainWindow

MENUS = ("&File", "&Edit", "&Playback", "&Annotate", "&View", "&Help")  # Help stays last


@dataclass(frozen=True)
class Entry:
    key: str
    action: QAction
    menu: str  # the top-level menu title without '&' ('' when in no menu)
    shortcuts: tuple[str, ...]  # portable text, e.g. 'Ctrl+Shift+Z'
    name: str = ""  # what the shortcut sheet calls it where the action's text changes ('Undo record…')


def _norm(seq: str) -> str:
    return QKeySequence(seq).toString(QKeySequence.PortableText)


class ActionRegistry:
    """Actions by key, their menus and shortcuts. ``add`` creates an action; ``adopt`` registers one
    made elsewhere (the undo stack's). Shortcuts work while any widget of the window has focus."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self._entries: dict[str, Entry] = {}
        self._taken: dict[str, str] = {_norm(k): f"the {what}" for k, what in held_keys().items()}
        self._menus: dict[str, QMenu] = {}
        for title in MENUS:
            self.menu(title)

    def menu(self, title: str) -> QMenu:
        """The top-level menu ``title`` ('&View' or 'View'); a new one is added before Help."""
        plain = title.replace("&", "")
        m = self._menus.get(plain)
        if m is None:
            bar = self.window.menuBar()
            m = QMenu(title if "&" in title else f"&{title}", bar)
            help_menu = self._menus.get("Help")
            bar.insertMenu(help_menu.menuAction(), m) if help_menu is not None else bar.addMenu(m)
            self._menus[plain] = m
        return m

    def add(self, key: str, text: str, fn: Callable | None = None, shortcut: str | Sequence[str] | None = None,
            menu: str | QMenu | None = None, checkable: bool = False, checked: bool = False, tip: str = "",
            group: QActionGroup | None = None) -> QAction:
        a = QAction(text, self.window)
        a.setCheckable(checkable)
        if checkable:
            a.setChecked(checked)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        if fn is not None:
            a.triggered.connect(fn)
        if group is not None:
            group.addAction(a)
        return self.adopt(key, a, shortcut, menu)

    def adopt(self, key: str, action: QAction, shortcut: str | Sequence[str] | None = None,
              menu: str | QMenu | None = None, name: str = "") -> QAction:
        if key in self._entries:
            raise ValueError(f"an action {key!r} is already registered")
        seqs = (shortcut,) if isinstance(shortcut, str) else tuple(shortcut or ())
        norm = tuple(_norm(s) for s in seqs)
        for s in norm:
            if s in self._taken:
                raise ValueError(f"shortcut {s} of {key!r} is already used by {self._taken[s]}")
        action.setShortcuts([QKeySequence(s) for s in norm])
        self.window.addAction(action)  # the shortcut works whichever dock has focus
        m = self.menu(menu) if isinstance(menu, str) else menu
        if m is not None:
            m.addAction(action)
        title = "" if m is None else m.title().replace("&", "")
        for s in norm:
            self._taken[s] = f"action {key!r}"
        self._entries[key] = Entry(key, action, title, norm, name)
        return action

    def __getitem__(self, key: str) -> QAction:
        return self._entries[key].action

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def hint(self, key: str) -> str:
        """'Back 5 s (Ctrl+Left)': an action's text and its shortcuts, for tooltips."""
        e = self._entries[key]
        text = e.action.text().replace("&", "").rstrip("…")
        return f"{text} ({' / '.join(e.shortcuts)})" if e.shortcuts else text

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """(menu, shortcuts, action text) of every action with a shortcut, in menu order."""
        order = {m.replace("&", ""): i for i, m in enumerate(MENUS)}
        rows = [(e.menu, " / ".join(e.shortcuts), e.name or e.action.text().replace("&", "").rstrip("…"))
                for e in self._entries.values() if e.shortcuts]
        return sorted(rows, key=lambda r: order.get(r[0], len(order) - 1))


@dataclass(frozen=True)
class SubMenus:
    """Menus whose items change while the app runs."""

    recent: QMenu
    tracks: QMenu
    panels: QMenu


def build_actions(win: "MainWindow", reg: ActionRegistry) -> SubMenus:
    """The window's standard actions."""
    p = win.player
    reg.add("open_project", "Open project…", win.projects.ask_open_project, "Ctrl+O", "File")
    reg.add("open_video", "Open video…", win.projects.ask_open_video, "Ctrl+Shift+O", "File")
    reg.add("open_demo", "Open the demo project", win.open_demo, None, "File")
    recent = reg.menu("File").addMenu("Recent projects")
    reg.menu("File").addSeparator()
    reg.add("save", "Save", win.save, "Ctrl+S", "File")
    reg.add("relocate", "Relocate media of this video…", lambda: win.relocate(win.session.video), None, "File")
    reg.add("close_project", "Close project", win.close_project, "Ctrl+W", "File")
    reg.menu("File").addSeparator()
    reg.add("quit", "Quit", win.close, "Ctrl+Q", "File")

    stack = win.session.stack
    reg.adopt("undo", stack.createUndoAction(win, "Undo"), "Ctrl+Z", "Edit", name="Undo")
    reg.adopt("redo", stack.createRedoAction(win, "Redo"), ("Ctrl+Shift+Z", "Ctrl+Y"), "Edit", name="Redo")
    reg.menu("Edit").addSeparator()
    reg.add("annotator", "Change annotator…", win.projects.ask_annotator, None, "Edit")

    for key, text, fn, sc in (
            ("play", "Play / pause", p.toggle, "Space"),
            ("next", "Next frame", lambda: p.step(1), "Right"),
            ("prev", "Previous frame", lambda: p.step(-1), "Left"),
            ("fwd1", "Forward 1 s", lambda: p.jump_seconds(1), "Shift+Right"),
            ("back1", "Back 1 s", lambda: p.jump_seconds(-1), "Shift+Left"),
            ("fwd5", "Forward 5 s", lambda: p.jump_seconds(5), "Ctrl+Right"),
            ("back5", "Back 5 s", lambda: p.jump_seconds(-5), "Ctrl+Left"),
            ("first", "First frame", lambda: p.seek(0), "Home"),
            ("last", "Last frame", lambda: p.seek(p.n_frames - 1), "End"),
            ("slower", "Slower", p.slower, "["),
            ("faster", "Faster", p.faster, "]"),
            ("normal", "Normal speed", lambda: p.set_speed(1.0), "\\")):
        reg.add(key, text, fn, sc, "Playback")
    reg.add("loop", "Loop in/out range", win.controls.toggle_loop, "Ctrl+L", "Playback", checkable=True)
    reg.add("audio", "Play audio", win.controls.set_audio_enabled, None, "Playback", checkable=True, checked=True)

    reg.add("arm", "Record valence-arousal while playing", win.annot.set_armed, "R", "Annotate", checkable=True)
    reg.add("set_va", "Write joystick value on this frame", win.annot.set_va_here, "Return", "Annotate")
    modes = QActionGroup(win)
    for k, (mode, label) in enumerate(MODE_LABELS):
        reg.add(f"mode_{mode}", f"Joystick: {label}", lambda _=False, mo=mode: win.controls.set_joystick_mode(mo),
                f"Ctrl+{k + 1}", "Annotate", checkable=True, checked=k == 0, group=modes)
    reg.add("fill_only", "Recording fills only unlabelled frames", win.controls.set_fill_only, None, "Annotate",
            checkable=True)
    reg.menu("Annotate").addSeparator()
    reg.add("mark_in", "Mark in", lambda: win.annot.set_in(), "I", "Annotate")
    reg.add("mark_out", "Mark out", lambda: win.annot.set_out(), "O", "Annotate")
    reg.add("clear_marks", "Clear marks", win.annot.clear_marks, "Escape", "Annotate")
    reg.menu("Annotate").addSeparator()
    reg.add("next_unlabelled", "Next unlabelled frame", win.controls.next_unlabelled, "N", "Annotate")
    reg.add("next_disagreement", "Next disagreement", win.controls.next_disagreement, "Shift+N", "Annotate")
    task_group = QActionGroup(win)
    jump = reg.menu("Annotate").addMenu("Jump by task")
    for task, label in (("va", "valence-arousal"), ("expr", "expression"), ("au", "action units")):
        reg.add(f"jump_{task}", label, lambda _=False, t=task: setattr(win.controls, "jump_task", t), None, jump,
                checkable=True, checked=task == "va", group=task_group)
    reg.menu("Annotate").addSeparator()
    reg.add("gamepad", "Gamepad settings…", win.gamepad_settings, None, "Annotate")

    themes = QActionGroup(win)
    for name in ("light", "dark"):
        reg.add(f"theme_{name}", f"{name.capitalize()} theme", lambda _=False, n=name: win.set_theme(n), None,
                "View", checkable=True, group=themes)
    reg.add("overlay", "Face box and landmarks", win.controls.set_overlay, None, "View", checkable=True, checked=True)
    reg.add("anchors", "Circumplex anchors", win.controls.set_anchors, None, "View", checkable=True, checked=True)
    tracks = reg.menu("View").addMenu("Tracks on the timeline")
    panels = reg.menu("View").addMenu("Panels")

    reg.add("shortcuts", "Keyboard shortcuts", win.show_shortcuts, "F1", "Help")
    reg.add("about", "About AffectTrace", win.about, None, "Help")
    return SubMenus(recent, tracks, panels)
