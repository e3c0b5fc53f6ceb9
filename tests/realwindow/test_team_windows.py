"""Two real app windows on one X display as two annotators of one team project (issue 15): a pass recorded
with real keys in one window appears in the other within seconds (its probe reports what its timeline
draws), and both lanes hold what was labelled once the apps have quit."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from core.project import Project
from core.project.campaign import assign
from tests.realwindow.xsession import App, XServer

pytestmark = pytest.mark.gui
PASS_FRAMES = 20
VISIBLE_WITHIN_S = 30.0  # a generous bound for a loaded machine; bench/team_window.py measures the time


def team_project(demo: Path, annotators: tuple[str, ...]) -> Path:
    with Project.open_writable(demo) as p:
        assign(p, list(annotators), ["demo"], ["va", "expr", "au"])
    return demo


def start_as(x: XServer, folder: Path, annotator: str, home: Path, host: str,
             monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", host)  # a workstation of its own
    app = App(x, [str(folder), "--annotator", annotator], home / annotator, annotator)
    app.wait_ready()
    app.wait(lambda s: s["team"]["lane"] == annotator, f"{annotator}'s lane to be open")
    return app


def focus(app: App) -> None:
    app.x.run("xdotool", "windowactivate", "--sync", app.window_id, check=False)
    app.wait(lambda s: s["active"], "the window to be active")
    app.click(app.state()["video_rect"])
    app.wait(lambda s: s["focus"] and s["focus"]["class"] == "VideoView", "the video to take the keys")


def record_pass(app: App) -> float:
    """R, Space, PASS_FRAMES on, Space, R: one VA pass; returns when its undo step was made (monotonic)."""
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


def see_edit(app: App, whose: str, frames: int) -> float:
    """When ``app``'s timeline draws at least ``frames`` VA-labelled frames of ``whose`` (monotonic)."""
    app.wait(lambda s: s["team"]["drawn_va"].get(whose, 0) >= frames, f"{whose}'s pass in the other window",
             VISIBLE_WITHIN_S)
    return time.monotonic()


def test_an_edit_in_one_window_appears_in_the_other(screen_1280: XServer, demo: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    folder = team_project(demo, ("lena", "omar"))
    lena = start_as(screen_1280, folder, "lena", tmp_path, "ws1", monkeypatch)
    omar = start_as(screen_1280, folder, "omar", tmp_path, "ws2", monkeypatch)
    try:
        assert "lena" not in omar.state()["team"]["drawn_va"]
        focus(lena)
        record_pass(lena)
        see_edit(omar, "lena", PASS_FRAMES)
        omar.wait(lambda s: any(a.startswith("lena · ") and " s ago · open on ws1" in a
                                for a in s["team"]["annotators"]), "lena's last save and host in omar's list")
        focus(omar)  # and back the other way
        record_pass(omar)
        see_edit(lena, "omar", PASS_FRAMES)
        assert lena.state()["errors"] == [] and omar.state()["errors"] == []
    finally:
        for app in (omar, lena):
            if app.proc.poll() is None:
                focus(app)
                assert app.quit() == 0
    with Project.open(folder, readonly=True) as r:
        for who in ("lena", "omar"):
            assert np.isfinite(r.track("demo", who).va[:, 0]).sum() >= PASS_FRAMES
