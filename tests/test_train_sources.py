"""Where a run's samples come from: time-block hold-out within videos (train and validation frames never
touch), every annotator's labels as samples, and the run list / curves the app shows."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import time_blocks
from core.nn.config import EACH_ANNOTATOR, TrainConfig
from core.project import Project
from core.runs import RunCurves, list_runs, recipe_text
from tests.engine_support import engine_demo


@pytest.mark.parametrize("n,share", [(4500, 0.2), (150, 0.2), (500, 0.3), (12, 0.5)])
def test_time_blocks_hold_out_spread_guarded_blocks(n: int, share: float) -> None:
    train, val = time_blocks(n, 25.0, share, seed=1)
    assert not (train & val).any() and val.any() and train.any()
    assert abs(val.mean() - share) < 0.15
    tf, vf = np.flatnonzero(train), np.flatnonzero(val)
    assert np.abs(tf[:, None] - vf[None, :]).min() >= 2  # guard frames of neither side between them
    edges = np.flatnonzero(np.diff(val.astype(int)))
    same = time_blocks(n, 25.0, share, seed=1)
    assert all((a == b).all() for a, b in zip(same, (train, val)))
    if n >= 500:  # evenly spread: validation in more than one place
        assert len(edges) >= 2


def test_block_split_and_each_annotator_datasets(tmp_path_factory, tmp_path) -> None:
    from core.nn.run import build_datasets

    demo = engine_demo(tmp_path_factory.getbasetemp(), tmp_path / "p")
    with Project.open(demo, readonly=True) as p:
        cfg = TrainConfig(label_track="truth", val_blocks=0.2, train_split=["demo"])
        train, val, notes = build_datasets(p, cfg)
        tf = {int(train[i]["frame"]) for i in range(len(train))}
        vf = {int(val[i]["frame"]) for i in range(len(val))}
        assert tf and vf and not tf & vf and min(abs(a - b) for a in tf for b in vf) > 1
        assert len(tf) + len(vf) < p.videos["demo"].frame_count  # the guards belong to neither side
        for ds in (train, val):
            ds.close()
        single = {}
        for ann in ("ann1", "ann2", "ann3"):
            ds, _, _ = build_datasets(p, TrainConfig(label_track=ann, val_split="none"))
            single[ann] = len(ds)
            ds.close()
        each, _, _ = build_datasets(p, TrainConfig(label_track=EACH_ANNOTATOR, val_split="none"))
        assert len(each) == sum(single.values()) and len(each) > max(single.values())
        each.close()


def test_runs_and_curves_from_events(tmp_path) -> None:
    run = tmp_path / "models" / "r1"
    run.mkdir(parents=True)
    (run / "config.toml").write_text('preset = "mt-tiny"\ntasks = ["va"]\nlabel_track = "fused"\nepochs = 3\n'
                                     'batch_size = 8\nval_blocks = 0.2\n')
    events = [
        {"event": "run", "run_id": "r1", "run_dir": str(run), "config": {"preset": "mt-tiny"}, "device": "cpu",
         "epochs": 3},
        {"event": "step", "step": 1, "epoch": 1, "epochs": 3, "total_steps": 6, "losses": {"total": 2.0, "va": 1.0}},
        {"event": "epoch", "epoch": 1, "metrics": {"val_ccc_valence": 0.1}, "best": True,
         "details": {"au_per_au_f1": {"AU1": 0.5}}},
        {"event": "step", "step": 3, "epoch": 2, "epochs": 3, "total_steps": 6, "losses": {"total": 1.5}},
        {"event": "end", "status": "cancelled"},
        {"event": "run", "run_id": "r1", "run_dir": str(run), "config": {"preset": "mt-tiny"}, "epochs": 3},
        {"event": "epoch", "epoch": 2, "metrics": {"val_ccc_valence": 0.3, "val_au_f1": 0.4}, "best": True},
    ]
    curves = RunCurves.from_events(events)
    assert curves.steps == [1, 3] and curves.losses["va"][0] == 1.0 and np.isnan(curves.losses["va"][1])
    assert curves.epochs == [1, 2] and curves.best_epoch == 2 and curves.resumes == [3]
    assert curves.metrics["val_au_f1"][0] != curves.metrics["val_au_f1"][0]  # NaN before it was measured
    assert curves.status == "running"
    (run / "events.jsonl").write_text("\n".join(__import__("json").dumps(e) for e in events[:3]) + "\n{broken\n")
    reopened = RunCurves.from_log(run)
    assert reopened.status == "stopped" and reopened.epochs == [1] and reopened.best_details["au_per_au_f1"]
    (tmp_path / "models" / "not-a-run").mkdir()
    runs = list_runs(tmp_path)
    assert [r.run_id for r in runs] == ["r1"] and runs[0].has_log and runs[0].status == "running or stopped"
    assert "20% blocks" in recipe_text(runs[0].config) and "labels fused" in recipe_text(runs[0].config)
