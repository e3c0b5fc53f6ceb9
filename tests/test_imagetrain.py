"""The paper's path on generated databases: train mt-tiny on an image dataset alone and mixed with the demo
project, fine-tune a demo run into AffectNet-8 and RAF-DB-7 (heads remapped or re-initialised, and said),
evaluate with the papers' metrics (checked against scikit-learn), predict a folder of images."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

from core.cli.main import main
from core.imagedata import ImageDataset, ImportOptions, import_images
from core.labels import EXPRESSION_SPACES
from core.metrics import class_accuracies, expr_scores, va_scores
from core.nn.checkpoint import read_checkpoint
from core.nn.imageeval import ImageModel, expression_probabilities
from tests import imagedbgen as gen
from tests.nn_demo import make_demo_project

TINY = ["--preset", "mt-tiny", "--batch-size", "8", "--epochs", "1", "--max-steps", "2"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("imagetrain")
    gen.affectnet_original(root / "affectnet", {"train": 2, "val": 1}, bad=False)
    gen.rafdb(root / "rafdb", {"train": 2, "test": 1}, bad=False)
    import_images("affectnet", root / "affectnet", root / "affectnet.h5")
    import_images("rafdb", root / "rafdb", root / "rafdb.h5", ImportOptions())
    project = make_demo_project(root, seconds=3.0)
    assert main(["train", str(project), "--label-track", "truth", "--run-id", "demo", *TINY]) == 0
    return root, project


def summary(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_train_on_an_image_dataset_alone(setup, capsys) -> None:
    root, _ = setup
    assert main(["train", "--images", str(root / "affectnet.h5"), "--run-id", "alone", *TINY, "--json"]) == 0
    s = summary(capsys)
    assert s["status"] == "finished" and s["finetune"] is None
    ckpt = read_checkpoint(root / "models" / "alone" / "best.pt")
    assert ckpt["labels"]["expressions"] == list(EXPRESSION_SPACES["affectnet-8"]) and ckpt["labels"]["aus"] == []
    assert ckpt["config"]["tasks"] == ["va", "expr"]  # AffectNet has no AU labels: the task is left out
    assert {"val_va", "val_expr"} <= set(s["best_metrics"])


def test_train_on_project_and_images_mixed(setup, capsys) -> None:
    root, project = setup
    assert main(["train", str(project), "--label-track", "truth", "--images", str(root / "affectnet.h5"),
                 "--expr-space", "affectnet-8", "--run-id", "mixed", *TINY, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "finished"
    assert "project expressions (affwild2) -> the run's classes" in captured.err
    assert "no counterpart for Other" in captured.err
    ckpt = read_checkpoint(project / "models" / "mixed" / "best.pt")
    assert ckpt["labels"]["expressions"] == list(EXPRESSION_SPACES["affectnet-8"])
    assert len(ckpt["labels"]["aus"]) > 0 and ckpt["config"]["images"] == [str(root / "affectnet.h5")]
    assert ckpt["config"]["tasks"] == ["va", "expr", "au"]  # the project's AUs; images masked for them


def test_finetune_from_the_demo_run_into_affectnet_and_rafdb(setup, capsys) -> None:
    root, project = setup
    demo = read_checkpoint(project / "models" / "demo" / "best.pt")["model"]
    for name, classes, new in (("affectnet", "affectnet-8", ["Contempt"]), ("rafdb", "rafdb-7", [])):
        assert main(["train", "--images", str(root / f"{name}.h5"), "--finetune", str(project / "models" / "demo"),
                     "--run-id", f"ft-{name}", "--lr", "0", *TINY, "--json"]) == 0
        s = summary(capsys)
        parts = s["finetune"]["parts"]
        assert parts["backbone"] == "kept" and parts["neck"] == "kept"
        assert parts["expr head"].startswith("remapped (7 of ")
        assert all(c in parts["expr head"] for c in new) and ("re-initialised" in parts["expr head"]) == bool(new)
        assert parts["au head"] == "none (the run has no AUs)"
        tuned = read_checkpoint(root / "models" / f"ft-{name}" / "last.pt")["model"]
        assert torch.equal(tuned["backbone.features.0.weight"], demo["backbone.features.0.weight"])  # lr 0
        space = EXPRESSION_SPACES[classes]
        happy = space.index("Happy" if "Happy" in space else "Happiness")
        assert torch.equal(tuned["heads.expr.weight"][happy], demo["heads.expr.weight"][4])  # Happiness row
    with pytest.raises(SystemExit):  # 'auto' or at least 1
        main(["train", "--images", str(root / "rafdb.h5"), "--batch-size", "0"])


def test_papers_metrics_match_sklearn_on_known_predictions() -> None:
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 7, 300)
    pred = np.where(rng.random(300) < 0.6, ref, rng.integers(0, 7, 300))
    s = expr_scores(pred, ref, class_names=EXPRESSION_SPACES["rafdb-7"])
    mca, per = class_accuracies(np.asarray(s["confusion"]))
    assert s["accuracy"] == pytest.approx(accuracy_score(ref, pred))
    assert mca == pytest.approx(balanced_accuracy_score(ref, pred))
    assert s["f1"] == pytest.approx(f1_score(ref, pred, average="macro"))
    assert np.array_equal(np.asarray(s["confusion"]), confusion_matrix(ref, pred, labels=range(7)))
    va_ref, va_pred = rng.uniform(-1, 1, (300, 2)), rng.uniform(-1, 1, (300, 2))
    v = va_scores(va_pred, va_ref)
    assert v["rmse_valence"] == pytest.approx(np.sqrt(np.mean((va_pred[:, 0] - va_ref[:, 0]) ** 2)))
    assert v["sagr_arousal"] == pytest.approx(np.mean(np.sign(va_pred[:, 1]) == np.sign(va_ref[:, 1])))


def test_evaluate_images_reports_the_papers_figures(setup, capsys) -> None:
    root, project = setup
    assert main(["evaluate-images", str(root / "affectnet.h5"), "--checkpoint", str(root / "models" / "alone"),
                 "--json"]) == 0
    res = summary(capsys)
    ex = res["expr"]
    model = ImageModel(root / "models" / "alone" / "best.pt", "cpu")
    with ImageDataset(root / "affectnet.h5") as ds:
        rows = ds.rows("val")
        out = model.outputs(ds.take(rows))
        ref = ds.expr[rows]
        keep = ref >= 0
        pred = out["expr"].argmax(1)[keep]
        assert ex["accuracy"] == pytest.approx(accuracy_score(ref[keep], pred))
        assert ex["mean_class_accuracy"] == pytest.approx(balanced_accuracy_score(ref[keep], pred))
        assert ex["macro_f1"] == pytest.approx(f1_score(ref[keep], pred, average="macro"))
        assert res["va"]["frames"] == len(rows) and "sagr_valence" in res["va"]
    # the Aff-Wild2 demo run scored on RAF-DB directly: its 8 classes mapped, Other has no counterpart
    assert main(["evaluate-images", str(root / "rafdb.h5"), "--checkpoint", str(project / "models" / "demo")]) == 0
    text = capsys.readouterr().out
    assert "split test" in text and "no counterpart for Other" in text and "mean class accuracy" in text
    demo = ImageModel(project / "models" / "demo" / "best.pt", "cpu")
    probs, note = expression_probabilities(demo, np.eye(8, dtype=np.float32), EXPRESSION_SPACES["rafdb-7"])
    assert probs[4, 3] == 1 and probs[7].sum() == 0 and "Other" in note  # Happiness -> 3; Other nowhere


def test_predict_a_folder_of_images(setup, tmp_path, capsys) -> None:
    root, _ = setup
    folder = root / "rafdb" / "Image" / "aligned"
    out = tmp_path / "pred.csv"
    assert main(["predict", str(folder), "--checkpoint", str(root / "models" / "alone"), "--backend", "crops",
                 "-o", str(out), "--json"]) == 0
    info = summary(capsys)
    table = pd.read_csv(out)
    assert info["images"] == len(table) == len(list(folder.iterdir())) and (table["face"] == 1).all()
    cols = [f"p_{c}" for c in EXPRESSION_SPACES["affectnet-8"]]
    assert set(cols) <= set(table.columns) and {"valence", "arousal"} <= set(table.columns)
    np.testing.assert_allclose(table[cols].sum(axis=1), 1.0, atol=1e-4)
    assert (table["expression"] == table[cols].idxmax(1).str[2:]).all()


def test_predict_a_folder_with_odd_names_and_a_truncated_image(setup, tmp_path, capsys) -> None:
    import os
    import shutil

    root, _ = setup
    folder = tmp_path / "imgs"
    shutil.copytree(root / "rafdb" / "Image" / "aligned", folder)
    first = sorted(folder.iterdir())[0]
    shutil.copy(first, os.fsdecode(bytes(folder) + b"/caf\xe9.jpg"))  # a Latin-1 name: not UTF-8
    out = tmp_path / "pred.csv"
    args = ["predict", str(folder), "--checkpoint", str(root / "models" / "alone"), "--backend", "crops",
            "-o", str(out)]
    assert main(args) == 0
    assert "caf\\xe9.jpg" in set(pd.read_csv(out)["path"])
    capsys.readouterr()
    data = first.read_bytes()
    first.write_bytes(data[: len(data) // 2])
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(f"{first}: truncated JPEG (no end-of-image marker after its image data)")
