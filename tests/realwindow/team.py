"""Two annotators' app windows on one X display (tests/realwindow/test_team_windows.py, bench/team_window.py)."""
from __future__ import annotations

import os
import time
from pathlib import Path

from core.project import Project
from core.project.campaign import assign
from tests.realwindow.xsession import App, XServer

PASS_FRAMES = 20
VISIBLE_WITHIN_S = 30.0  # a generous bound for a loaded machine; bench/team_window.py measures the time


def team_project(demo: Path, annotators: tuple[str, ...]) -> Path:
    """The demo project made a team project: its video assigned to ``annotators``."""
    with Project.open_writable(demo) as p:
        assign(p, list(annotators), ["demo"], ["va", "expr", "au"])
    return demo


def start_as(x: XServer, folder: Path, annotator: str, home: Path, host: str) -> App:
    """The app as ``annotator`` on a simulated workstation ``host`` (its own HOME), ready with its lane open."""
    before = os.environ.get("AFFECTTRACE_HOSTNAME")
    os.environ["AFFECTTRACE_HOSTNAME"] = host  # read by the app at its start
    try:
        app = App(x, [str(folder), "--annotator", annotator], home / annotator, annotator)
    finally:
        if before is None:
            os.environ.pop("AFFECTTRACE_HOSTNAME", None)
        else:
            os.environ["AFFECTTRACE_HOSTNAME"] = before
    app.wait_ready()
    app.wait(lambda s: s["team"]["lane"] == annotator, f"{annotator}'s lane to be open")
    return app


def focus(app: App) -> None:
    """Activate the window and give the video the keyboard, with a click as a person does."""
    app.x.run("xdotool", "windowactivate", "--sync", app.window_id, check=False)
    app.wait(lambda s: s["active"], "the window to be active")
    app.click(app.state()["video_rect"])
    app.wait(lambda s: s["focus"] and s["focus"]["class"] == "VideoView", "the video to take the keys")


def record_pass(app: App) -> float:
    """R, Space, PASS_FRAMES on, Space, R: one VA pass; returns when its undo step was seen (monotonic)."""
    before = app.state()["undo_index"]
    app.key("r")
    app.wait(lambda s: s["armed"], "recording armed")
    start = app.state()["position"]
    app.key("space")
    app.wait(lambda s: s["position"] >= start + PASS_FRAMES, "the pass to run on")
    app.key("space")
    app.wait(lambda s: not s["playing"], "pause")
    app.key("r")
    app.wait(lambda s: s["undo_index"] > before and not s["armed"], "the pass as an undo step")
    return time.monotonic()


def drawn(app: App, whose: str) -> int:
    """VA-labelled frames of ``whose`` track that ``app``'s timeline draws."""
    return int(app.state().get("team", {}).get("drawn_va", {}).get(whose, 0))


def see_edit(app: App, whose: str, frames: int) -> float:
    """When ``app``'s timeline draws at least ``frames`` VA-labelled frames of ``whose`` (monotonic)."""
    app.wait(lambda s: s["team"]["drawn_va"].get(whose, 0) >= frames, f"{whose}'s pass in the other window",
             VISIBLE_WITHIN_S)
    return time.monotonic()
