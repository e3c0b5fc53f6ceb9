"""Still-image databases from generated trees in their exact layouts: every layout imports, invalid rows
are named with file and line, crops are aligned as videos are, an interrupted import resumes, and the
import needs no torch."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import core.imagedata.importer as importer
from core.cli.main import main
from core.errors import AffectTraceError
from core.imagedata import ImageDataset, ImportOptions, InvalidRowsError, import_images
from core.imagedata.affectnet import read_affectnet
from core.labels import EXPRESSION_SPACES
from core.progress import CancelToken
from tests import imagedbgen as gen
from tests.conftest import REPO
from tests.facegen import draw_face


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp("imagedb")
    info = {
        "affectnet": gen.affectnet_original(root / "affectnet", {"train": 2, "val": 1}),
        "repackaged": gen.affectnet_repackaged(root / "repackaged", {"train": 2, "val": 1}),
        "rafdb": gen.rafdb(root / "rafdb", {"train": 2, "test": 1}),
        "folders": gen.class_folders(root / "folders", ("happy", "angry", "neutral"), {"train": 2, "val": 1}),
        "csv": gen.csv_table(root / "table", ("Happiness", "Anger", "Neutral"), 9),
    }
    return root, info


def face_match(crop: np.ndarray, canonical: np.ndarray) -> float:
    """Correlation of two 112x112 crops over the face (the middle of the template)."""
    a, b = crop[20:105, 20:92].astype(float).ravel(), canonical[20:105, 20:92].astype(float).ravel()
    return float(np.corrcoef(a, b)[0, 1])


def test_affectnet_original_bad_rows_labels_and_alignment(trees, tmp_path) -> None:
    root, info = trees
    with pytest.raises(InvalidRowsError) as err:
        import_images("affectnet", root / "affectnet", tmp_path / "a.h5")
    assert sorted(p.line for p in err.value.problems) == info["affectnet"]["bad_lines"]
    assert all(p.path == root / "affectnet" / "Manually_Annotated_file_lists" / "training.csv"
               for p in err.value.problems)
    assert "--skip-invalid" in str(err.value) and not (tmp_path / "a.h5").exists()
    messages = " | ".join(p.message for p in err.value.problems)
    for part in ("5 columns", "expression 12", "out of range", "135 numbers", "image not found", "not a relative path"):
        assert part in messages
    rep = import_images("affectnet", root / "affectnet", tmp_path / "a.h5", ImportOptions(skip_invalid=True))
    assert len(rep.problems) == 6 and rep.summary["dropped"] == {"expression 10 (No-Face)": 2}
    with ImageDataset(tmp_path / "a.h5") as ds:
        assert ds.expr_classes == EXPRESSION_SPACES["affectnet-8"] and ds.has_va
        assert {s: len(ds.rows(s)) for s in ds.splits} == info["affectnet"]["rows"]
        assert ds.attrs["alignment"].startswith("5-point template")
        src = {ds.paths[i]: i for i in ds.rows()}
        for path, (concept, seed) in list(info["affectnet"]["faces"].items())[:6]:
            canonical, _ = draw_face(concept, seed=seed, size=112, scale=1.0)
            assert face_match(ds.take([src[path]])[0], canonical) > 0.9, path


def test_affectnet_labels_none_keeps_va_and_seven_classes_drop_contempt(trees) -> None:
    root, _ = trees
    rs = read_affectnet(root / "affectnet")
    none = [r for r in rs.rows if r.source_label == 8]
    assert none and all(r.expr == -1 and np.isfinite(r.va).all() for r in none)
    assert all(r.expr == r.source_label for r in rs.rows if r.source_label < 8)
    seven = read_affectnet(root / "affectnet", "affectnet-7")
    contempt = [r for r in seven.rows if r.source_label == 7]
    assert contempt and all(r.expr == -1 for r in contempt)
    assert "not a class of affectnet-7" in seven.label_map["7 Contempt"]


def test_affectnet_repackaged_reads_string_npy_and_aligns(trees, tmp_path) -> None:
    root, info = trees
    rep = import_images("affectnet", root / "repackaged", tmp_path / "r.h5")
    assert not rep.problems and rep.summary["layout"] == "repackaged"
    with ImageDataset(tmp_path / "r.h5") as ds:
        assert {s: len(ds.rows(s)) for s in ds.splits} == info["repackaged"]["rows"]
        assert np.isfinite(ds.va).all() and set(ds.expr.tolist()) == set(range(8))
        assert set(ds.summary()["crop_methods"]) == {"landmarks68"}
    ann = root / "repackaged" / "val_set" / "annotations"
    np.save(ann / "999_exp.npy", np.array("3"))  # no image 999.jpg
    shutil.copy(next((ann.parent / "images").iterdir()), ann.parent / "images" / "998.jpg")
    np.save(ann / "998_exp.npy", np.array("12"))
    with pytest.raises(InvalidRowsError) as err:
        import_images("affectnet", root / "repackaged", tmp_path / "bad.h5")
    found = {p.path.name: p.message for p in err.value.problems}
    assert found == {"999_exp.npy": f"no image {ann.parent / 'images' / '999.jpg'}",
                     "998_exp.npy": "expression 12 is not a label 0..10"}
    for f in (ann / "999_exp.npy", ann / "998_exp.npy", ann.parent / "images" / "998.jpg"):
        f.unlink()


def test_rafdb_aligned_and_original_crops_agree(trees, tmp_path, capsys) -> None:
    root, info = trees
    assert main(["import-images", "rafdb", str(root / "rafdb"), str(tmp_path / "a.h5")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all("list_patition_label.txt: line" in e for e in err)
    assert [int(e.split("line ")[1].split(":")[0]) for e in err[:3]] == info["rafdb"]["bad_lines"]
    for crops in ("aligned", "original"):
        assert main(["import-images", "rafdb", str(root / "rafdb"), str(tmp_path / f"{crops}.h5"), "--crops",
                     crops, "--skip-invalid", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["expr_space"] == "rafdb-7" and len(out["problems"]) == 3
        assert {s: v["images"] for s, v in out["splits"].items()} == info["rafdb"]["rows"]
    with ImageDataset(tmp_path / "aligned.h5") as a, ImageDataset(tmp_path / "original.h5") as o:
        assert a.paths[0].endswith("train_00001_aligned.jpg") and o.paths[0].endswith("original/train_00001.jpg")
        assert (a.expr == o.expr).all() and a.expr[0] == 0  # label 1 Surprise is class 0
        assert face_match(a.take([0])[0], o.take([0])[0]) > 0.85


def test_class_folders_label_map_and_unknown_folder(trees, tmp_path) -> None:
    root, info = trees
    rep = import_images("folders", root / "folders", tmp_path / "f.h5")
    assert rep.summary["expr_space"] == "affwild2-7" and rep.summary["label_map"]["happy"] == "Happiness"
    assert {s: v["images"] for s, v in rep.summary["splits"].items()} == info["folders"]["rows"]
    (root / "folders" / "train" / "joy").mkdir(exist_ok=True)
    shutil.copy(next((root / "folders" / "train" / "happy").iterdir()), root / "folders" / "train" / "joy" / "x.png")
    with pytest.raises(InvalidRowsError, match="folder 'joy' is not a class"):
        import_images("folders", root / "folders", tmp_path / "g.h5")
    rep = import_images("folders", root / "folders", tmp_path / "g.h5",
                        ImportOptions(label_map="joy=Happiness", expr_space="affectnet-8"))
    assert rep.summary["expr_space"] == "affectnet-8" and rep.summary["splits"]["train"]["expression"]["Happy"] == 3
    shutil.rmtree(root / "folders" / "train" / "joy")


def test_csv_table_with_va_aus_and_bad_rows(trees, tmp_path) -> None:
    root, info = trees
    with pytest.raises(InvalidRowsError) as err:
        import_images("csv", root / "table" / "labels.csv", tmp_path / "c.h5")
    assert [p.line for p in err.value.problems] == info["csv"]["bad_lines"]
    assert all(p.path == root / "table" / "labels.csv" for p in err.value.problems)
    rep = import_images("csv", root / "table" / "labels.csv", tmp_path / "c.h5", ImportOptions(skip_invalid=True))
    with ImageDataset(tmp_path / "c.h5") as ds:
        assert ds.au_names == ("AU12", "AU4") and ds.has_va and len(ds) == info["csv"]["rows"]
        happy = ds.expr == ds.expr_classes.index("Happiness")
        assert (ds.au[happy, 0] == 1).all() and (ds.au[~happy, 0] == 0).all()
        assert set(ds.splits) == {"train", "val"} and rep.summary["splits"]["val"]["images"] == 2


def test_unreadable_image_is_named_and_an_interrupted_import_resumes(trees, tmp_path, monkeypatch) -> None:
    root, _ = trees
    monkeypatch.setattr(importer, "BLOCK", 4)
    cancel = CancelToken()
    with pytest.raises(AffectTraceError, match="cancelled at row 4"):
        import_images("rafdb", root / "rafdb", tmp_path / "x.h5", ImportOptions(skip_invalid=True),
                      progress=lambda done, total, msg="": cancel.cancel(), cancel=cancel)
    assert (tmp_path / "x.h5.part").exists() and not (tmp_path / "x.h5").exists()
    rep = import_images("rafdb", root / "rafdb", tmp_path / "x.h5", ImportOptions(skip_invalid=True))
    assert rep.resumed_at == 4 and not (tmp_path / "x.h5.part").exists()
    straight = import_images("rafdb", root / "rafdb", tmp_path / "y.h5", ImportOptions(skip_invalid=True, workers=2))
    with ImageDataset(tmp_path / "x.h5") as x, ImageDataset(tmp_path / "y.h5") as y:
        assert np.array_equal(x.take(x.rows()), y.take(y.rows())) and straight.resumed_at == 0
    bad = root / "table" / "img" / "broken.jpg"
    bad.write_text("not a jpeg")
    table = root / "table" / "broken.csv"
    table.write_text("path,expression\nimg/000.jpg,happy\nimg/broken.jpg,anger\n")
    with pytest.raises(InvalidRowsError, match=rf"broken.csv: line 3: image {bad}: not a JPEG, PNG, BMP or WebP"):
        import_images("csv", table, tmp_path / "b.h5")
    assert not (tmp_path / "b.h5").exists() and not (tmp_path / "b.h5.part").exists()


def test_import_images_needs_no_torch(trees, tmp_path) -> None:
    root, _ = trees
    code = ("import sys; from core.cli.main import main; "
            f"rc = main(['import-images', 'folders', {str(root / 'folders')!r}, {str(tmp_path / 'n.h5')!r}]); "
            "assert rc == 0; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True)


def test_a_bad_dataset_file_is_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    with pytest.raises(AffectTraceError, match="not a readable image dataset"):
        ImageDataset(bad)
    assert main(["train", "--images", str(bad), "--epochs", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and "image dataset" in err
    assert main(["evaluate-images", str(tmp_path / "absent.h5"), "--checkpoint", str(bad)]) == 1
    assert "absent.h5: image dataset not found" in capsys.readouterr().err
