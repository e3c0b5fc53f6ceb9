"""Two real app windows on one X display as two annotators of one team project (issue 15): a pass recorded
with real keys in one window appears in the other within seconds (its probe reports what its timeline
draws), and both lanes hold what was labelled once the apps have quit."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.project import Project
from tests.realwindow.team import PASS_FRAMES, focus, record_pass, see_edit, start_as, team_project
from tests.realwindow.xsession import XServer

pytestmark = pytest.mark.gui


def test_an_edit_in_one_window_appears_in_the_other(screen_1280: XServer, demo: Path, tmp_path: Path) -> None:
    folder = team_project(demo, ("lena", "omar"))
    lena = start_as(screen_1280, folder, "lena", tmp_path, "ws1")
    omar = start_as(screen_1280, folder, "omar", tmp_path, "ws2")
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
