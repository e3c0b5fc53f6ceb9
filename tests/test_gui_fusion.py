"""One fusion path: the agreement panel's "Save fused" writes exactly the track `affecttrace fuse` writes
with the same options (method, lag compensation, maximum lag), and "Show fused" previews that track."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui_support import demo_copy, make_window

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def _fused(folder: Path):
    from core.project import Project

    with Project.open(folder, readonly=True) as p:
        t = p.track("demo", "fused")
        return t.copy(), dict(t.source.recipe)


@pytest.mark.parametrize("method,lag,max_lag", [("ewe", True, 4.0), ("mean", False, 6.0), ("vote", False, 6.0)])
def test_save_fused_equals_the_cli(qtbot, tmp_path, tmp_path_factory, method, lag, max_lag):
    base = tmp_path_factory.getbasetemp()
    app_copy, cli_copy = demo_copy(base, tmp_path / "app"), demo_copy(base, tmp_path / "cli")
    win = make_window(qtbot, tmp_path, app_copy)
    panel = win.views.agreement
    panel.method.setCurrentText(method)
    panel.lag.setChecked(lag)
    panel.max_lag.setValue(max_lag)
    qtbot.mouseClick(panel.show_fused, Qt.LeftButton)
    assert win.fusion.busy and not panel.save.isEnabled(), "the fusion runs off the GUI thread"
    qtbot.waitUntil(lambda: win.tracks.fused is not None, timeout=60000)
    preview = win.tracks.fused
    assert preview.name == "fused" and "fused" in win.views.timeline.visible
    qtbot.mouseClick(panel.save, Qt.LeftButton)
    qtbot.waitUntil(lambda: "fused" in win.session.project.track_names("demo"), timeout=60000)
    assert not win.session.project.unsaved and panel.save.isEnabled() and win.tracks.fused is None
    win.close()

    args = ["fuse", str(cli_copy), "--method", method, "--max-lag", str(max_lag)]
    args += ["--lag-compensate"] if lag else []
    r = _cli(*args)
    assert r.returncode == 0, r.stderr
    ours, our_recipe = _fused(app_copy)
    theirs, their_recipe = _fused(cli_copy)
    np.testing.assert_array_equal(ours.va, theirs.va)
    np.testing.assert_array_equal(ours.expr, theirs.expr)
    np.testing.assert_array_equal(ours.au, theirs.au)
    assert our_recipe == their_recipe
    np.testing.assert_array_equal(preview.va, ours.va)  # what was shown is what was saved
    np.testing.assert_array_equal(preview.expr, ours.expr)
    if lag:
        assert our_recipe["max_lag_s"] == max_lag and our_recipe["lags_s"]
