"""`affecttrace evaluate` on Aff-Wild2 files, folders and project tracks; evaluate_tracks on model tracks."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from core.cli.main import main
from core.metrics import au_scores, evaluate_tracks, expr_scores, va_scores
from core.project import Project
from core.tracks import Track, TrackSource
from tests.affwild2gen import make_dataset


def _write(path: Path, header: str, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header] + rows) + "\n")


def test_evaluate_files_against_dataset(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    files = make_dataset(tmp_path / "ds", "2022", media=False)
    rng = np.random.default_rng(1)
    preds, refs = [], []
    for video in ("vid1", "vid2_left"):
        ref_text = files[f"EXPR_Recognition_Challenge/Train_Set/{video}.txt"].read_text().split("\n")[1:-1]
        ref = np.array(ref_text, dtype=int)
        pred = np.where(rng.random(len(ref)) < 0.6, ref.clip(0), rng.integers(0, 8, len(ref)))
        _write(tmp_path / "pred" / f"{video}.txt", "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other",
               [str(v) for v in pred])
        preds.append(pred)
        refs.append(ref)
    assert main(["evaluate", "--task", "expr", "--pred", str(tmp_path / "pred"), "--ref", str(tmp_path / "ds"),
                 "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    p, r = np.concatenate(preds), np.concatenate(refs)
    keep = r >= 0
    assert res["overall"]["score"] == pytest.approx(f1_score(r[keep], p[keep], average="macro"))
    assert res["overall"]["frames"] == keep.sum() and res["overall"]["videos"] == 2
    assert res["videos"]["vid1"]["score"] == pytest.approx(expr_scores(preds[0], refs[0])["score"])
    assert sorted(res["missing_pred"]) == ["vid2_right", "vid3"]
    assert main(["evaluate", "--task", "expr", "--pred", str(tmp_path / "pred"), "--ref", str(tmp_path / "ds"),
                 "--abaw", "2020"]) == 0
    assert "EXPR (ABAW 2020)" in capsys.readouterr().out


def test_evaluate_project_tracks_and_bad_pred(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_dataset(tmp_path / "ds", "2020", media=False)
    assert main(["import-affwild2", str(tmp_path / "ds"), str(tmp_path / "proj")]) == 0
    with Project.open(tmp_path / "proj") as p:
        for v in p.videos:
            t = p.track(v, "affwild2").copy()
            t.name, t.source = "noisy", TrackSource.human("noisy")
            t.va = np.clip(t.va + np.float32(0.2), -1, 1)
            p.put_track(t)
        p.save()
    capsys.readouterr()
    assert main(["evaluate", "--task", "va", "--pred", f"{tmp_path / 'proj'}:@noisy", "--ref",
                 str(tmp_path / "proj"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    with Project.open(tmp_path / "proj", readonly=True) as p:
        pairs = [(p.track(v, "noisy"), p.track(v, "affwild2")) for v in p.videos]
    want = va_scores(np.concatenate([a.va for a, _ in pairs]), np.concatenate([b.va for _, b in pairs]))
    assert res["overall"]["ccc_valence"] == pytest.approx(want["ccc_valence"])
    assert 0 < res["overall"]["score"] < 1 and res["overall"]["pearson_arousal"] > 0.9
    _write(tmp_path / "bad" / "vid1.txt", "valence,arousal", ["0.1,0.2", "0.3"])
    assert main(["evaluate", "--task", "va", "--pred", str(tmp_path / "bad"), "--ref", str(tmp_path / "proj")]) == 1
    assert "vid1.txt: line 3: wrong column count" in capsys.readouterr().err
    assert main(["evaluate", "--task", "va", "--pred", str(tmp_path / "proj:nosuch"), "--ref",
                 str(tmp_path / "proj")]) == 1
    assert "no video has the track 'nosuch'" in capsys.readouterr().err


def test_evaluate_tracks_model_probabilities() -> None:
    rng = np.random.default_rng(0)
    n, aus = 300, ("AU1", "AU12")
    ref = Track.empty("v", "gold", TrackSource.human("a"), n, aus)
    ref.au[:] = rng.integers(0, 2, (n, 2))
    ref.expr[:] = rng.integers(0, 8, n)
    model = Track.empty("v", "run", TrackSource.model("run", "h"), n, aus)
    model.au_prob = np.clip(ref.au + rng.normal(0, 0.4, (n, 2)), 0, 1).astype(np.float32)
    model.expr_prob = rng.random((n, 8)).astype(np.float32)
    model.expr_prob[np.arange(n), ref.expr] += 0.5
    au = evaluate_tracks(model, ref, "au", 2022)
    assert au["score"] == pytest.approx(au_scores((model.au_prob >= 0.5).astype(int), ref.au)["score"])
    ex = evaluate_tracks(model, ref, "expr", 2022)
    assert ex["score"] == pytest.approx(expr_scores(model.expr_prob.argmax(1), ref.expr)["score"])
