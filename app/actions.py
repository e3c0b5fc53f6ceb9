"""Menus, actions and their shortcuts for the main window (kept apart from the window's wiring)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

if TYPE_CHECKING:
    from .main_window import MainWindow


def _act(win, text: str, fn: Callable | None = None, shortcut=None, checkable: bool = False, tip: str = "") -> QAction:
    a = QAction(text, win)
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    a.setCheckable(checkable)
    if tip:
        a.setStatusTip(tip)
    if fn is not None:
        a.triggered.connect(fn)
    win.addAction(a)  # shortcuts work while any dock has focus
    return a


def build_menus(win: "MainWindow") -> dict[str, QAction]:
    mb = win.menuBar()
    A: dict[str, QAction] = {}
    p = win.player

    m = mb.addMenu("&File")
    A["open_project"] = _add(m, _act(win, "Open project…", win.ask_open_project, QKeySequence.Open))
    A["open_video"] = _add(m, _act(win, "Open video…", win.ask_open_video, "Ctrl+Shift+O"))
    win.recent_menu = m.addMenu("Recent projects")
    m.addSeparator()
    A["save"] = _add(m, _act(win, "Save", win.save, QKeySequence.Save))
    A["relocate"] = _add(m, _act(win, "Relocate media of this video…", lambda: win.relocate(win.session.video)))
    m.addSeparator()
    A["quit"] = _add(m, _act(win, "Quit", win.close, QKeySequence.Quit))

    m = mb.addMenu("&Edit")
    undo = win.session.stack.createUndoAction(win, "Undo")
    undo.setShortcut(QKeySequence.Undo)
    redo = win.session.stack.createRedoAction(win, "Redo")
    redo.setShortcuts([QKeySequence.Redo, QKeySequence("Ctrl+Shift+Z")])
    win.addAction(undo)
    win.addAction(redo)
    m.addAction(undo)
    m.addAction(redo)
    A["undo"], A["redo"] = undo, redo
    m.addSeparator()
    A["annotator"] = _add(m, _act(win, "Change annotator…", win.ask_annotator))

    m = mb.addMenu("&Playback")
    A["play"] = _add(m, _act(win, "Play / pause", p.toggle, "Space"))
    A["next"] = _add(m, _act(win, "Next frame", lambda: p.step(1), "Right"))
    A["prev"] = _add(m, _act(win, "Previous frame", lambda: p.step(-1), "Left"))
    A["fwd1"] = _add(m, _act(win, "Forward 1 s", lambda: p.jump_seconds(1), "Shift+Right"))
    A["back1"] = _add(m, _act(win, "Back 1 s", lambda: p.jump_seconds(-1), "Shift+Left"))
    A["fwd5"] = _add(m, _act(win, "Forward 5 s", lambda: p.jump_seconds(5), "Ctrl+Right"))
    A["back5"] = _add(m, _act(win, "Back 5 s", lambda: p.jump_seconds(-5), "Ctrl+Left"))
    A["first"] = _add(m, _act(win, "First frame", lambda: p.seek(0), "Home"))
    A["last"] = _add(m, _act(win, "Last frame", lambda: p.seek(p.n_frames - 1), "End"))
    m.addSeparator()
    A["slower"] = _add(m, _act(win, "Slower", p.slower, "["))
    A["faster"] = _add(m, _act(win, "Faster", p.faster, "]"))
    A["normal"] = _add(m, _act(win, "Normal speed", lambda: p.set_speed(1.0), "\\"))
    A["loop"] = _add(m, _act(win, "Loop in/out range", win.toggle_loop, "Ctrl+L", checkable=True))
    A["audio"] = _add(m, _act(win, "Play audio", win.set_audio_enabled, checkable=True))
    A["audio"].setChecked(True)

    m = mb.addMenu("&Annotate")
    A["arm"] = _add(m, _act(win, "Record valence-arousal while playing", win.annot.set_armed, "R", checkable=True))
    A["set_va"] = _add(m, _act(win, "Write joystick value on this frame", win.annot.set_va_here, "Return"))
    modes = QActionGroup(win)
    for mode, label, key in (("2d", "Joystick: valence and arousal", "Ctrl+1"),
                             ("valence", "Joystick: valence only", "Ctrl+2"),
                             ("arousal", "Joystick: arousal only", "Ctrl+3")):
        a = _add(m, _act(win, label, lambda _=False, mo=mode: win.set_joystick_mode(mo), key, checkable=True))
        modes.addAction(a)
        A[f"mode_{mode}"] = a
    A["mode_2d"].setChecked(True)
    A["fill_only"] = _add(m, _act(win, "Recording fills only unlabelled frames", win.set_fill_only, checkable=True))
    m.addSeparator()
    A["mark_in"] = _add(m, _act(win, "Mark in", lambda: win.annot.set_in(), "I"))
    A["mark_out"] = _add(m, _act(win, "Mark out", lambda: win.annot.set_out(), "O"))
    A["clear_marks"] = _add(m, _act(win, "Clear marks", win.annot.clear_marks, "Escape"))
    m.addSeparator()
    A["next_unlabelled"] = _add(m, _act(win, "Next unlabelled frame", win.next_unlabelled, "N"))
    A["next_disagreement"] = _add(m, _act(win, "Next disagreement", win.next_disagreement, "Shift+N"))
    tasks = QActionGroup(win)
    jm = m.addMenu("Jump by task")
    for task, label in (("va", "valence-arousal"), ("expr", "expression"), ("au", "action units")):
        a = _act(win, label, lambda _=False, t=task: setattr(win, "jump_task", t), checkable=True)
        tasks.addAction(a)
        jm.addAction(a)
        A[f"jump_{task}"] = a
    A["jump_va"].setChecked(True)
    m.addSeparator()
    A["gamepad"] = _add(m, _act(win, "Gamepad settings…", win.gamepad_settings))

    m = mb.addMenu("&View")
    win.view_menu = m
    themes = QActionGroup(win)
    for name in ("light", "dark"):
        a = _add(m, _act(win, f"{name.capitalize()} theme", lambda _=False, n=name: win.set_theme(n), checkable=True))
        themes.addAction(a)
        A[f"theme_{name}"] = a
    A["overlay"] = _add(m, _act(win, "Face box and landmarks", win.set_overlay, checkable=True))
    A["overlay"].setChecked(True)
    A["anchors"] = _add(m, _act(win, "Circumplex anchors", win.set_anchors, checkable=True))
    A["anchors"].setChecked(True)
    win.tracks_menu = m.addMenu("Tracks on the timeline")
    m.addSeparator()

    m = mb.addMenu("&Help")
    A["shortcuts"] = _add(m, _act(win, "Keyboard shortcuts", win.show_shortcuts, "F1"))
    A["about"] = _add(m, _act(win, "About AffectTrace", win.about))
    return A


def _add(menu, action: QAction) -> QAction:
    menu.addAction(action)
    return action
