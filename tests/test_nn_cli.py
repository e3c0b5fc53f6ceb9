"""`affecttrace models`, `train`, `predict` on a small demo project: runs, resume, model tracks with
provenance, frames without a face unlabelled, evaluation against a track, checkpoint refusal."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.cli.main import main
from core.nn.config import TrainConfig
from core.project import Project
from core.tracks import TrackKind
from tests.nn_demo import make_demo_project

NO_FACE = (20, 30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_project(tmp_path_factory.mktemp("nn_cli"), seconds=4.0, no_face=NO_FACE)


def test_models_json(capsys) -> None:
    assert main(["models", "--json", "--au-set", "affwild2-8"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in out["presets"]}
    presets = {"mt-vgg", "mt-resnet", "mt-arcvgg", "mt-arcres", "mt-resnet-gru", "mt-resnet-gru-av", "mt-tiny"}
    assert presets <= set(rows)
    assert rows["mt-vgg"]["backbone_parameters"] == 14_714_688
    assert rows["mt-resnet"]["backbone_parameters"] == 23_508_032
    assert rows["mt-arcres"]["arcface"] and rows["mt-resnet-gru-av"]["audio"]


def test_train_resume_predict_evaluate(demo, capsys) -> None:
    rc = main(["train", str(demo), "--preset", "mt-tiny", "--label-track", "truth", "--epochs", "1",
               "--max-steps", "2", "--batch-size", "8", "--run-id", "r1", "--tasks", "va,expr,au", "--json"])
    assert rc == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out)
    assert summary["status"] == "finished" and summary["epochs_done"] == 1 and summary["run_id"] == "r1"
    run = demo / "models" / "r1"
    assert {"best.pt", "last.pt", "config.toml", "history.csv", "summary.json"} <= {p.name for p in run.iterdir()}
    # no video validates: time blocks of the training video are held out, the run says so, and best.pt is
    # chosen on them, not on the training loss
    assert "no validation video in 'val': validating on 20% of the training videos" in printed.err
    assert TrainConfig.load(run / "config.toml").val_blocks == 0.2
    assert summary["best_metrics"] and all(k.startswith("val_") for k in summary["best_metrics"])

    assert main(["train", str(demo), "--resume", "r1", "--epochs", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs_done"] == 2
    assert torch.load(run / "last.pt", weights_only=True)["epoch"] == 2
    assert main(["train", str(demo), "--resume", "r1", "--lr", "0.1"]) == 1  # settings of a run are kept
    assert "only --epochs" in capsys.readouterr().err

    rc = main(["predict", str(demo), "--checkpoint", "r1", "--track-name", "auto", "--smooth", "3",
               "--evaluate", "truth", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    n = out["videos"]["demo"]["frames"]
    assert out["videos"]["demo"]["frames_predicted"] == n - (NO_FACE[1] - NO_FACE[0])
    assert {"va", "expr", "au"} == set(out["evaluation"]) - {"reference"}
    assert out["evaluation"]["va"]["overall"]["frames"] == n - (NO_FACE[1] - NO_FACE[0])

    with Project.open(demo, readonly=True) as p:
        t = p.track("demo", "auto")
        assert t.source.kind == TrackKind.MODEL and t.source.run_id == "r1"
        assert len(t.source.checkpoint_hash) == 16 and t.source.recipe["preset"] == "mt-tiny"
        assert t.source.recipe["smooth"] == 3 and "time" in t.source.recipe
        gap = slice(*NO_FACE)
        assert np.isnan(t.va[gap]).all() and (t.expr[gap] == -1).all() and (t.au[gap] == -1).all()
        assert np.isnan(t.expr_prob[gap]).all() and np.isnan(t.au_prob[gap]).all()
        face = np.ones(t.n_frames, bool)
        face[gap] = False
        assert np.isfinite(t.va[face]).all() and (t.expr[face] >= 0).all() and (t.au[face] >= 0).all()
        np.testing.assert_allclose(t.expr_prob[face].sum(1), 1.0, atol=1e-4)
        assert (t.expr[face] == t.expr_prob[face].argmax(1)).all()
        assert ((t.au_prob[face] >= 0.5) == (t.au[face] == 1)).all()


def test_predict_refuses_a_checkpoint_of_another_au_set(demo, tmp_path, capsys) -> None:
    assert main(["train", str(demo), "--label-track", "truth", "--epochs", "1", "--max-steps", "1",
                 "--batch-size", "8", "--run-id", "r2"]) == 0
    ckpt = torch.load(demo / "models" / "r2" / "best.pt", weights_only=True)
    ckpt["labels"]["aus"] = [a.replace("AU26", "AU27") for a in ckpt["labels"]["aus"]]
    torch.save(ckpt, tmp_path / "other.pt")
    capsys.readouterr()
    assert main(["predict", str(demo), "--checkpoint", str(tmp_path / "other.pt")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "AU27" in err and "the project uses" in err


def test_train_reports_bad_input_in_one_line(demo, capsys) -> None:
    assert main(["train", str(demo), "--label-track", "nobody", "--epochs", "1"]) == 1
    assert "no labelled face frames" in capsys.readouterr().err
    assert main(["train", str(demo), "--preset", "mt-nothing", "--label-track", "truth"]) == 1
    assert "unknown model preset" in capsys.readouterr().err


@pytest.mark.realdata
def test_predict_media_file_writes_csv(demo, shared_data, tmp_path, capsys) -> None:
    assert main(["train", str(demo), "--label-track", "truth", "--epochs", "1", "--max-steps", "1",
                 "--batch-size", "8", "--run-id", "r3"]) == 0
    capsys.readouterr()
    out_csv = tmp_path / "single_face.csv"
    rc = main(["predict", str(shared_data / "single_face.mp4"), "--checkpoint", str(demo / "models" / "r3"),
               "--backend", "dlib", "-o", str(out_csv), "--json"])
    assert rc == 0
    info = json.loads(capsys.readouterr().out)
    assert info["frames"] == 72 and info["frames_predicted"] == 72
    import pandas as pd

    table = pd.read_csv(out_csv)
    assert len(table) == 72 and {"valence", "arousal", "expression", "p_Happiness", "p_AU12"} <= set(table.columns)
    assert table["valence"].between(-1, 1).all()
