"""The agreement panel computes in the background with the function behind `affecttrace agreement`:
the button is disabled while it runs, the numbers (and VA lags) equal the CLI report's, and a result
for a video or task no longer shown is dropped."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui_support import demo_copy, make_window

pytestmark = pytest.mark.gui


@pytest.fixture
def demo(tmp_path, tmp_path_factory) -> Path:
    return demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")


def _cell(table, i: int, j: int) -> str:
    it = table.item(i, j)
    return "" if it is None else it.text()


def _compute(qtbot, win) -> None:
    panel = win.views.agreement
    qtbot.mouseClick(panel.compute, Qt.LeftButton)
    assert win.agreement_runner.busy and not panel.compute.isEnabled() and panel.note.text() == "computing…"
    qtbot.waitUntil(lambda: not win.agreement_runner.busy, timeout=60000)
    assert panel.compute.isEnabled()


def test_compute_matches_the_cli_report_including_lags(qtbot, tmp_path, demo):
    from core.agreement.report import agreement_report

    win = make_window(qtbot, tmp_path, demo)
    panel, video = win.views.agreement, win.session.video
    rep = agreement_report(win.session.project, [video], ("va", "expr", "au"))["videos"][video]
    assert "lags" in rep and len(rep["va"]["annotators"]) >= 2

    panel.task.setCurrentIndex(0)  # valence
    qtbot.waitUntil(lambda: not win.agreement_runner.busy, timeout=60000)
    _compute(qtbot, win)
    res = panel.result
    assert res is not None and res["names"] == rep["va"]["annotators"]
    names, d = res["names"], rep["va"]["valence"]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if a != b:
                assert res["pairwise"][i, j] == pytest.approx(d["ccc"][a][b], nan_ok=True)
                assert _cell(panel.table, i, j) == f"{d['ccc'][a][b]:.3f}"
    assert res["summary"]["Krippendorff α (interval)"] == pytest.approx(d["krippendorff_alpha"])
    assert res["summary"]["ICC(2,1)"] == pytest.approx(d["icc"]["ICC(2,1)"])
    assert res["lags"] == rep["lags"]["lags_s"]
    shown = {_cell(panel.summary, r, 0): _cell(panel.summary, r, 1) for r in range(panel.summary.rowCount())}
    against = {"reference": "vs reference", "labels": "vs video", "relative": "vs earliest"}[rep["lags"]["basis"]]
    for a, s in rep["lags"]["lags_s"].items():
        assert shown[f"lag {a} {against}"] == f"{s:.2f} s"  # says what the lag is measured against

    panel.task.setCurrentIndex(2)  # expression: the combo itself starts a computation
    qtbot.waitUntil(lambda: not win.agreement_runner.busy and panel.result is not None
                    and panel.result["pair_name"] == "Cohen κ", timeout=60000)
    e = rep["expr"]
    assert panel.result["summary"]["Fleiss κ"] == pytest.approx(e["fleiss_kappa"])
    assert panel.result["summary"]["Krippendorff α (nominal)"] == pytest.approx(e["krippendorff_alpha"])
    m = panel.result["pairwise"]
    for i, a in enumerate(panel.result["names"]):
        for j, b in enumerate(panel.result["names"]):
            if a != b:
                assert m[i, j] == pytest.approx(e["cohen_kappa"][a][b])

    panel.task.setCurrentIndex(3)  # AUs
    qtbot.waitUntil(lambda: not win.agreement_runner.busy and panel.result is not None
                    and panel.result["pair_name"].startswith("Cohen κ (mean"), timeout=60000)
    assert panel.result["summary"]["Fleiss κ (mean over AUs)"] == pytest.approx(rep["au"]["fleiss_kappa"])
    win.close()


def test_stale_result_for_another_task_is_dropped(qtbot, tmp_path, demo):
    win = make_window(qtbot, tmp_path, demo)
    panel, runner = win.views.agreement, win.agreement_runner
    panel.task.setCurrentIndex(2)
    qtbot.waitUntil(lambda: not runner.busy, timeout=60000)
    panel.show_result(None, "")
    runner.start()  # expression requested ...
    tok = runner.job.token
    panel.task.blockSignals(True)
    panel.task.setCurrentIndex(0)  # ... but valence is on screen when it arrives
    panel.task.blockSignals(False)
    qtbot.waitUntil(lambda: not runner.busy, timeout=60000)
    assert runner.job.token == tok and panel.result is None and "Press Compute" in panel.note.text()
    runner.start()
    stale = runner.job.token
    runner.job._deliver(stale - 1, {"expr": {}}, "")  # an older request's result: ignored
    assert runner.busy and panel.result is None
    qtbot.waitUntil(lambda: not runner.busy, timeout=60000)
    assert panel.result is not None and panel.result["pair_name"] == "CCC"
    assert np.isfinite(panel.result["pairwise"][0, 1])
    win.close()
