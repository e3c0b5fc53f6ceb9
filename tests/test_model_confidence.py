"""Model tracks keep per-frame confidence (EXPR/AU probabilities, VA MC-dropout spread) through save,
reopen, export-csv and import-csv; predict --unlabelled / --tracks-out while the project is held open."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from core.cli.main import main
from core.edits import set_range
from core.interchange.confcols import confidence_columns
from core.labels import EXPRESSIONS
from core.modeltracks import cell_confidence, frame_confidence, read_prediction_file, unlabelled_videos
from core.nn.uncertainty import va_std
from core.project import Project
from tests.predicted_demo import MODEL_TRACK, NO_FACE, RUN, predicted_copy


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("confidence")
    return predicted_copy(root, root / "p")


def test_model_track_confidence_survives_reopen(demo) -> None:
    with Project.open(demo) as p:
        t = p.track("demo", MODEL_TRACK)
        gap, face = slice(*NO_FACE), np.ones(t.n_frames, bool)
        face[gap] = False
        assert t.va_std.shape == (t.n_frames, 2) and t.va_std.dtype == np.float32
        assert np.isnan(t.va_std[gap]).all() and np.isfinite(t.va_std[face]).all() and (t.va_std[face] > 0).all()
        conf = {task: frame_confidence(t, task) for task in ("va", "expr", "au")}
        for task, c in conf.items():
            assert np.isnan(c[gap]).all() and ((c[face] >= 0) & (c[face] <= 1)).all(), task
        np.testing.assert_allclose(conf["expr"][face], t.expr_prob[face].max(1), rtol=1e-6)
        np.testing.assert_allclose(cell_confidence(t, "au")[face], np.maximum(t.au_prob, 1 - t.au_prob)[face])
        before = t.copy()
        # another track changes and the project saves again: the model track's pack is kept as it is
        p.apply(set_range("demo", "ann1", "expr", 0, 5, 3))
        p.save()
    with Project.open(demo, readonly=True) as p:
        t = p.track("demo", MODEL_TRACK)
        for name in ("va", "va_std", "expr_prob", "au_prob"):
            np.testing.assert_array_equal(getattr(t, name), getattr(before, name), err_msg=name)


def test_export_and_import_csv_carry_confidence(demo, tmp_path, capsys) -> None:
    out = tmp_path / "labels.csv"
    assert main(["export-csv", str(demo), str(out)]) == 0
    table = pd.read_csv(out)
    with Project.open(demo, readonly=True) as p:
        aus = p.au_set.aus
        model = p.track("demo", MODEL_TRACK).copy()
    assert list(table.columns[-len(confidence_columns(aus)):]) == confidence_columns(aus)
    rows = table[table["track"] == MODEL_TRACK].sort_values("frame")
    np.testing.assert_array_equal(rows[["valence_std", "arousal_std"]].to_numpy(np.float32), model.va_std)
    np.testing.assert_array_equal(rows[[f"p_{e}" for e in EXPRESSIONS]].to_numpy(np.float32), model.expr_prob)
    np.testing.assert_array_equal(rows[[f"p_{a}" for a in aus]].to_numpy(np.float32), model.au_prob)
    assert table.loc[table["track"] == "ann1", "valence_std"].isna().all()

    copy = shutil.copytree(demo, tmp_path / "q", ignore=shutil.ignore_patterns(".lock", "lock.json"))
    with Project.open(copy) as p:  # a blank model track: the import must bring every confidence array back
        p.delete_track("demo", MODEL_TRACK)
        p.save()
    assert main(["import-csv", str(copy), str(out)]) == 0
    with Project.open(copy, readonly=True) as p:
        back = p.track("demo", MODEL_TRACK)
        for name in ("va", "va_std", "expr", "expr_prob", "au", "au_prob"):
            np.testing.assert_array_equal(getattr(back, name), getattr(model, name), err_msg=name)
        assert p.track("demo", "ann1").va_std is None and p.track("demo", "ann1").expr_prob is None

    bad = table.copy()
    bad.loc[bad.index[3], "p_Anger"] = 1.5
    bad.to_csv(tmp_path / "bad.csv", index=False)
    capsys.readouterr()
    assert main(["import-csv", str(copy), str(tmp_path / "bad.csv")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "line 5: p_Anger '1.5' is not a probability in [0, 1]" in err


def test_predict_unlabelled_into_a_track_file_while_the_project_is_open(demo, tmp_path, capsys) -> None:
    copy = shutil.copytree(demo, tmp_path / "u", ignore=shutil.ignore_patterns(".lock", "lock.json"))
    with Project.open(copy) as held:  # the app holds the project: predict writes beside it
        held.add_video(copy / "media" / "demo.mp4", name="fresh")
        shutil.copyfile(held.cache_dir("faces") / "demo.h5", held.cache_dir("faces") / "fresh.h5")
        held.save()
        assert unlabelled_videos(held) == ["fresh"]
        out = copy / "cache" / "predictions" / "fresh.h5"
        capsys.readouterr()
        assert main(["predict", str(copy), "--checkpoint", RUN, "--unlabelled", "--tracks-out", str(out),
                     "--track-name", "auto", "--json"]) == 0
        res = json.loads(capsys.readouterr().out)
        assert list(res["videos"]) == ["fresh"] and res["tracks_file"] == str(out)
        (track,) = read_prediction_file(out)
        assert (track.video, track.name) == ("fresh", "auto") and track.va_std is not None
        assert not held.has_track("fresh", "auto")
        held.put_track(track)
        held.save()
    with Project.open(copy, readonly=True) as p:
        np.testing.assert_array_equal(p.track("fresh", "auto").va_std, track.va_std)
        np.testing.assert_array_equal(p.track("fresh", "auto").va, p.track("demo", MODEL_TRACK).va)
    assert main(["predict", str(copy), "--checkpoint", RUN, "--unlabelled", "--video", "demo"]) == 1
    assert "not both" in capsys.readouterr().err


def test_head_dropout_sampling_is_mc_dropout(demo) -> None:
    """The spread from sampling the neck's dropout on fixed features equals that of running the heads
    in training mode (dropout on) many times, and is reproducible whatever the batch."""
    from core.nn.checkpoint import model_from_checkpoint

    model, _ = model_from_checkpoint(demo / "models" / RUN / "best.pt", device=torch.device("cpu"))
    model.eval()
    feats = torch.randn(6, model.heads.neck[0].in_features)
    a = va_std(model.heads, feats, samples=4000)
    assert torch.equal(a, va_std(model.heads, feats, samples=4000))
    torch.testing.assert_close(va_std(model.heads, feats[2:4], samples=4000), a[2:4])  # batch does not matter
    torch.manual_seed(1)
    model.heads.train()
    with torch.no_grad():
        runs = torch.stack([model.heads(feats)["va"] for _ in range(4000)])
    model.heads.eval()
    np.testing.assert_allclose(a.numpy(), runs.std(0, unbiased=False).numpy(), rtol=0.1, atol=1e-4)
    model.heads.neck[2].p = 0.0
    assert va_std(model.heads, feats) is None
