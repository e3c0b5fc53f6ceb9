"""Images are read strictly by every importer (truncated, oversized, FIFO, non-UTF-8 names, EXIF
orientation), bad face geometry is refused with its file and line, every bad file is named, an image
dataset can be described, resumes keep nothing stale, and the counters hold AffectNet's real size."""
from __future__ import annotations

import csv
import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.cli.main import main
from core.imagedata import ImageDataset, ImportOptions, InvalidRowsError, import_images
from core.imagedata.cache import create_part, finish_part
from core.imagedata.decode import MAX_PIXELS, ImageError, decode_rgb, exif_orientation, read_image
from core.imagedata.records import ImageRow, RowSet
from tests import imagedbgen as gen
from tests.affwild2gen import make_dataset
from tests.facegen import draw_face


def _jpeg(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _with_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an EXIF APP1 segment giving ``orientation``."""
    tiff = b"MM\0*\0\0\0\x08" + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + b"\0" * 4
    app1 = b"Exif\0\0" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    gen.class_folders(tmp_path / "db", ("happy", "sad"), {"train": 3})
    return tmp_path / "db"


def test_truncated_and_damaged_images_are_named_and_listed(folders: Path, tmp_path: Path, capsys) -> None:
    face, _ = draw_face("Happiness", seed=1, size=112, scale=1.0)
    jpg = _jpeg(face)
    (folders / "train" / "happy" / "cut.jpg").write_bytes(jpg[: len(jpg) * 2 // 3])  # libjpeg would grey the rest
    png = (folders / "train" / "sad" / "000.png").read_bytes()
    (folders / "train" / "sad" / "cut.png").write_bytes(png[:-40])
    flipped = bytearray(png)
    flipped[len(png) // 2] ^= 0xFF
    (folders / "train" / "sad" / "flip.png").write_bytes(bytes(flipped))
    with pytest.raises(InvalidRowsError) as err:
        import_images("folders", folders, tmp_path / "x.h5")
    found = {p.path.name: p.message for p in err.value.problems}
    assert found == {"cut.jpg": "truncated JPEG (no end-of-image marker after its image data)",
                     "cut.png": "truncated PNG (the file ends before its IEND chunk)",
                     "flip.png": "damaged PNG (bad checksum in its IDAT chunk)"}
    assert all(p.path.is_absolute() for p in err.value.problems) and not (tmp_path / "x.h5").exists()
    assert main(["import-images", "folders", str(folders), str(tmp_path / "x.h5"), "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert "skipped 3 invalid row(s)" in out and f"{folders / 'train' / 'happy' / 'cut.jpg'}: truncated JPEG" in out
    with ImageDataset(tmp_path / "x.h5") as ds:
        assert len(ds.rows()) == 6


def test_decompression_bombs_are_refused_from_the_header(tmp_path: Path) -> None:
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 4000)) \
        + _png_chunk(b"IEND", b"")
    assert len(bomb) < 1000
    with pytest.raises(ImageError, match=r"PNG of 60000x60000 pixels \(3600 MP\) is over the 50 MP limit"):
        decode_rgb(bomb)
    side = int(MAX_PIXELS ** 0.5) + 10  # a real file just over the limit: refused before decoding
    big = cv2.imencode(".png", np.zeros((side, side, 3), np.uint8))[1].tobytes()
    with pytest.raises(ImageError, match="over the 50 MP limit"):
        decode_rgb(big)
    fake = bytearray(_jpeg(np.zeros((16, 16, 3), np.uint8)))
    sof = fake.index(b"\xff\xc0")
    fake[sof + 5:sof + 9] = struct.pack(">HH", 50000, 50000)
    with pytest.raises(ImageError, match="JPEG of 50000x50000"):
        decode_rgb(bytes(fake))


def test_fifo_and_non_utf8_names_never_reach_the_decoder(folders: Path, tmp_path: Path, capsys) -> None:
    happy = folders / "train" / "happy"
    os.mkfifo(happy / "pipe.jpg")
    odd = Path(os.fsdecode(bytes(happy) + b"/caf\xe9.png"))  # Latin-1 name: not UTF-8
    odd.write_bytes((happy / "000.png").read_bytes())
    with pytest.raises(InvalidRowsError) as err:
        import_images("folders", folders, tmp_path / "x.h5")
    assert [(p.path.name, p.message) for p in err.value.problems] == \
        [("pipe.jpg", "is a FIFO (named pipe), not a regular file")]
    assert main(["import-images", "folders", str(folders), str(tmp_path / "x.h5"), "--skip-invalid"]) == 0
    with ImageDataset(tmp_path / "x.h5") as ds:
        assert len(ds.rows()) == 7 and any("caf" in p for p in ds.paths)
    with pytest.raises(ImageError, match="FIFO"):
        read_image(happy / "pipe.jpg")


def test_exif_orientation_is_explicit(tmp_path: Path) -> None:
    stored = np.zeros((60, 120, 3), np.uint8)
    stored[:, :40] = 255  # white on the left as stored
    data = _with_orientation(_jpeg(stored), 6)  # "turn 90 degrees clockwise to view"
    assert exif_orientation(data) == 6 and exif_orientation(_jpeg(stored)) == 1
    assert decode_rgb(data).shape == (60, 120, 3)
    upright = decode_rgb(data, upright=True)
    assert upright.shape == (120, 60, 3) and upright[:40].mean() > 200 and upright[80:].mean() < 50
    folder = tmp_path / "db" / "happy"
    folder.mkdir(parents=True)
    (folder / "a.jpg").write_bytes(data)
    (folder / "b.jpg").write_bytes(_jpeg(stored))
    rep = import_images("folders", tmp_path / "db", tmp_path / "x.h5", ImportOptions(val=0))
    assert "1 image(s) have an EXIF orientation: turned upright by it" in rep.summary["notes"]


def _affectnet_row(root: Path, landmarks: str, box: tuple[str, ...] = ("10", "10", "80", "80")) -> Path:
    """An original-layout AffectNet with one row whose landmarks/box are given."""
    (root / "Manually_Annotated_Images" / "1").mkdir(parents=True)
    img, lm = draw_face("Happiness", seed=3, size=160, scale=0.6)
    cv2.imwrite(str(root / "Manually_Annotated_Images" / "1" / "a.jpg"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    lists = root / "Manually_Annotated_file_lists"
    lists.mkdir()
    with open(lists / "training.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "facial_landmarks",
                    "expression", "valence", "arousal"])
        good = ";".join(f"{v:.2f}" for v in lm.reshape(-1))
        w.writerow(["1/a.jpg", *box, good if landmarks == "good" else landmarks, "3", "0.5", "0.2"])
    return lists / "training.csv"


@pytest.mark.parametrize("landmarks, box, expected", [
    (";".join(["nan"] * 136), None, "landmarks are not finite numbers"),
    (";".join(["1e30"] * 136), None, "landmarks coincide"),
    (";".join(f"{1e30 * (k + 1):g}" for k in range(136)), None, "landmarks lie outside the 160x160 image"),
    ("", ("nan", "0", "1e308", "80"), "no landmarks, and the face box is not finite"),
    ("", ("1e6", "1e6", "80", "80"), "face box lies outside the 160x160 image"),
])
def test_bad_face_geometry_is_one_line_with_file_and_line(tmp_path: Path, landmarks: str,
                                                          box: tuple[str, ...] | None, expected: str) -> None:
    csv_path = _affectnet_row(tmp_path / "an", landmarks, box or ("10", "10", "80", "80"))
    with pytest.raises(InvalidRowsError) as err:
        import_images("affectnet", tmp_path / "an", tmp_path / "x.h5")
    (p,) = err.value.problems
    assert p.path == csv_path and p.line == 2 and expected in p.message, str(p)


def test_rafdb_identical_points_and_a_fifo_points_file(tmp_path: Path) -> None:
    gen.rafdb(tmp_path / "raf", {"train": 1, "test": 1}, bad=False)
    manual = tmp_path / "raf" / "Annotation" / "manual"
    (manual / "train_00001_manu_attri.txt").write_text("50 50\n" * 5 + "1\n0\n2\n")
    fifo = manual / "train_00002_manu_attri.txt"
    fifo.unlink()
    os.mkfifo(fifo)
    with pytest.raises(InvalidRowsError) as err:
        import_images("rafdb", tmp_path / "raf", tmp_path / "x.h5", ImportOptions(crops="original"))
    messages = sorted(str(p) for p in err.value.problems)
    assert len(messages) == 2
    assert "train_00001_manu_attri.txt: landmarks coincide" in messages[0]
    assert f"manual points {fifo} is a FIFO (named pipe)" in messages[1]


def test_repackaged_affectnet_names_the_annotation_at_fault(tmp_path: Path) -> None:
    gen.affectnet_repackaged(tmp_path / "rp", {"train": 1, "val": 1})
    ann = tmp_path / "rp" / "train_set" / "annotations"
    (ann / "0_val.npy").write_bytes(b"garbage")
    (ann / "1_aro.npy").unlink()
    os.mkfifo(ann / "1_aro.npy")
    np.save(ann / "2_lnd.npy", np.array(["nan"] * 136))
    with pytest.raises(InvalidRowsError) as err:
        import_images("affectnet", tmp_path / "rp", tmp_path / "x.h5")
    found = {p.path.name: p.message for p in err.value.problems}
    assert set(found) == {"0_val.npy", "1_aro.npy", "2_lnd.npy"}, found
    assert found["0_val.npy"].startswith("unreadable annotation")
    assert found["1_aro.npy"] == "is a FIFO (named pipe), not a regular file"
    assert found["2_lnd.npy"] == "landmarks are not finite numbers (NaN or infinite)"


def test_training_csv_as_a_fifo_is_an_error_not_a_missing_split(tmp_path: Path, capsys) -> None:
    csv_path = _affectnet_row(tmp_path / "an", "good")
    csv_path.unlink()
    os.mkfifo(csv_path)
    assert main(["import-images", "affectnet", str(tmp_path / "an"), str(tmp_path / "x.h5")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [f"affecttrace import-images: error: {csv_path}: is a FIFO (named pipe), "
                                "not a regular file"]


def test_import_affwild2_names_every_bad_file(tmp_path: Path, capsys) -> None:
    make_dataset(tmp_path / "ds", "2022", media=False)
    bad = [tmp_path / "ds" / "VA_Estimation_Challenge" / "Train_Set" / "vid1.txt",
           tmp_path / "ds" / "VA_Estimation_Challenge" / "Train_Set" / "vid3.txt",
           tmp_path / "ds" / "VA_Estimation_Challenge" / "Validation_Set" / "vid2_right.txt"]
    for b in bad:
        b.write_text("valence,arousal\n0.1,0.2\n7,0\n")
    assert main(["import-affwild2", str(tmp_path / "ds"), str(tmp_path / "proj")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    for b in bad:
        assert f"{b}: line 3: valence 7 out of range" in "\n".join(lines[:-1]), lines
    assert len(lines) == len(bad) + 1 and lines[-1].startswith("affecttrace import-affwild2: error:")


def test_info_describes_an_image_dataset(folders: Path, tmp_path: Path, capsys) -> None:
    import_images("folders", folders, tmp_path / "x.h5", ImportOptions(val=0))
    assert main(["info", str(tmp_path / "x.h5")]) == 0
    out = capsys.readouterr().out
    for part in ("database", "folders (split/class folders)", "images", "6", "crops", "112x112 RGB, images taken "
                 "as face crops, resized", "splits:", "Happiness", "label map:", "happy", "Happiness"):
        assert part in out, part
    assert main(["info", str(tmp_path / "x.h5"), "--json"]) == 0
    assert '"images": 6' in capsys.readouterr().out


def test_a_resumed_import_keeps_no_stale_label(tmp_path: Path, monkeypatch) -> None:
    import core.imagedata.importer as importer
    from core.errors import AffectTraceError
    from core.progress import CancelToken

    gen.csv_table(tmp_path / "t", ("Happiness", "Anger", "Neutral"), 9)
    table = tmp_path / "t" / "labels.csv"
    monkeypatch.setattr(importer, "BLOCK", 4)
    cancel = CancelToken()
    opt = ImportOptions(skip_invalid=True, val=0)
    with pytest.raises(AffectTraceError, match="cancelled"):
        import_images("csv", table, tmp_path / "x.h5", opt, progress=lambda *a: cancel.cancel(), cancel=cancel)
    lines = table.read_text().splitlines()
    header = lines[0].split(",")
    col = next(j for j, h in enumerate(header) if h.lower() in ("expression", "expr", "label", "emotion"))
    cells = lines[1].split(",")
    cells[col] = "Neutral" if cells[col] != "Neutral" else "Anger"
    lines[1] = ",".join(cells)
    table.write_text("\n".join(lines) + "\n")
    rep = import_images("csv", table, tmp_path / "x.h5", opt)
    assert rep.resumed_at == 0 and any("started over" in n for n in rep.summary["notes"])
    with ImageDataset(tmp_path / "x.h5") as ds:
        assert ds.expr_classes[int(ds.expr[0])] == cells[col]


@pytest.mark.slow
def test_affectnet_sized_counters(tmp_path: Path) -> None:
    """The re-packaged layout has one annotation file per image: 290,000 label files in one dataset."""
    n = 290_000
    rows = [ImageRow(f"train_set/images/{i}.jpg", "train" if i % 10 else "val", "crop", i % 8,
                     file=f"train_set/annotations/{i}_exp.npy") for i in range(n)]
    rs = RowSet("affectnet", "repackaged", tmp_path, "affectnet-8", gen.EXPRESSION_SPACES["affectnet-8"], rows=rows)
    part = tmp_path / "big.h5.part"
    f, start = create_part(part, rs)
    assert start == 0
    f["method"][:] = 5
    finish_part(f, part, tmp_path / "big.h5", [], {}, 0)
    import h5py

    with h5py.File(tmp_path / "big.h5", "r") as h:
        files, index = h["files"][()], h["file"][()]
        assert len(files) == n and index.max() == n - 1
        for k in (0, 65_535, 65_592, n - 1):  # uint16 ended at 65,535
            assert files[index[k]].decode() == f"train_set/annotations/{k}_exp.npy"
    with ImageDataset(tmp_path / "big.h5") as ds:
        assert len(ds.rows("train")) == n - n // 10 and ds.summary()["splits"]["val"]["images"] == n // 10


def test_landmarks_apply_to_the_pixels_as_stored_whatever_the_exif_orientation(tmp_path: Path) -> None:
    from core.imagedata.crops import align_points

    csv_path = _affectnet_row(tmp_path / "an", "good")
    image = tmp_path / "an" / "Manually_Annotated_Images" / "1" / "a.jpg"
    plain = image.read_bytes()
    image.write_bytes(_with_orientation(plain, 6))
    rep = import_images("affectnet", tmp_path / "an", tmp_path / "x.h5")
    assert any("1 image(s) have an EXIF orientation: used as stored" in n for n in rep.summary["notes"])
    cells = next(csv.reader(csv_path.read_text().splitlines()[1:]))
    points = np.array([float(v) for v in cells[5].split(";")]).reshape(68, 2)
    expected = align_points(decode_rgb(plain), points)
    with ImageDataset(tmp_path / "x.h5") as ds:
        assert np.abs(ds.take([0])[0].astype(int) - expected.astype(int)).mean() < 1.0
