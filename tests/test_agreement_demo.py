"""Agreement, lags and fusion on the demo project against its ground truth (CLI and Python)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.agreement import estimate_lags
from core.cli.main import main
from core.demo import create_demo, load_ground_truth
from core.interchange import parse_label_file
from core.metrics import evaluate_tracks
from core.project import Project
from core.tracks import TrackKind


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agree") / "demo"
    create_demo(folder, seed=0, duration_s=60.0).close()
    return folder


def test_agreement_lags_match_ground_truth(demo: Path, capsys: pytest.CaptureFixture) -> None:
    truth = load_ground_truth(demo)
    assert main(["agreement", str(demo), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    entry = rep["videos"]["demo"]
    lags = entry["lags"]
    assert lags["basis"] == "labels"  # anchored on the frame-by-frame expression/AU labels
    for a, lag in truth.lags.items():
        assert lags["lags_s"][a] == pytest.approx(lag, abs=0.2), a
    va = entry["va"]["valence"]
    assert set(va["icc"]) == {"ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"}
    assert 0 < va["ccc"]["ann1"]["ann2"] < 1 and va["ccc"]["ann1"]["ann2"] == va["ccc"]["ann2"]["ann1"]
    assert entry["expr"]["fleiss_kappa"] > 0.5 and set(entry["au"]["per_au"]) >= {"AU12", "AU1"}
    assert main(["agreement", str(demo), "--task", "va", "--lag-reference", "none", "--json"]) == 0
    rel = json.loads(capsys.readouterr().out)["videos"]["demo"]["lags"]
    assert rel["basis"] == "relative" and min(rel["lags_s"].values()) == 0.0
    for a, lag in truth.lags.items():  # differences between annotators are what the traces alone give
        assert rel["lags_s"][a] - rel["lags_s"]["ann1"] == pytest.approx(lag - truth.lags["ann1"], abs=0.2)
    with Project.open(demo, readonly=True) as p:
        traces = {a: p.track("demo", a).va for a in truth.lags}
    ref = estimate_lags(traces, float(truth.fps), reference=truth.track.va)  # a frame-synchronous reference
    for a, lag in truth.lags.items():
        assert ref.lags_s[a] == pytest.approx(lag, abs=0.2)
    assert main(["agreement", str(demo)]) == 0
    text = capsys.readouterr().out
    assert "ICC(2,1)" in text and "VA reaction lag" in text and "Fleiss" in text


def test_fusion_beats_annotators(demo: Path, capsys: pytest.CaptureFixture) -> None:
    truth = load_ground_truth(demo).track
    assert main(["fuse", str(demo), "--method", "ewe", "--lag-compensate"]) == 0
    with Project.open(demo, readonly=True) as p:
        fused = p.track("demo", "fused")
        humans = {t.name: t for t in p.tracks_of_kind("demo", TrackKind.HUMAN)}
        src = fused.source
        assert src.kind == TrackKind.FUSED and src.recipe["methods"] == {"va": "ewe", "expr": "vote", "au": "vote"}
        assert set(src.recipe["lags_s"]) == set(humans) and src.recipe["lag_basis"] == "labels"
        assert set(src.recipe["ewe_weights"]["valence"]) == set(humans)
        fused_va = evaluate_tracks(fused, truth, "va")["score"]
        best_va = max(evaluate_tracks(t, truth, "va")["score"] for t in humans.values())
        assert fused_va > best_va and fused_va > 0.9
        for task in ("expr", "au"):
            worst = min(evaluate_tracks(t, truth, task)["score"] for t in humans.values())
            assert evaluate_tracks(fused, truth, task)["score"] >= worst
        lagged = fused.va.copy()
    assert main(["fuse", str(demo), "--method", "mean", "--task", "va"]) == 0
    with Project.open(demo, readonly=True) as p:
        mean = p.track("demo", "fused")
        assert mean.source.recipe["methods"]["va"] == "mean" and "lags_s" not in mean.source.recipe
        assert evaluate_tracks(mean, truth, "va")["score"] < fused_va  # without lag compensation
        assert not np.array_equal(mean.va, lagged, equal_nan=True)
        assert (mean.expr == fused.expr).all()  # EXPR kept from the earlier vote
    capsys.readouterr()
    assert main(["evaluate", "--task", "va", "--pred", f"{demo}:fused", "--ref", f"{demo}:@ann1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["frames"] > 1000
    out = demo.parent / "fused_out"
    assert main(["export-affwild2", str(demo), str(out), "--fused"]) == 0
    lf, problems = parse_label_file(out / "VA_Estimation_Challenge" / "Train_Set" / "demo.txt", "va")
    assert not problems and np.array_equal(lf.values.astype(np.float32), mean.va, equal_nan=True)  # lossless
