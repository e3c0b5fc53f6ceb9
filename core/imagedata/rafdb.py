"""RAF-DB basic: ``EmoLabel/list_patition_label.txt`` (sic) lines "train_00001.jpg 5" (1 Surprise, 2 Fear,
3 Disgust, 4 Happiness, 5 Sadness, 6 Anger, 7 Neutral); images in ``Image/aligned/`` (the database's own
100x100 aligned crops, ``train_00001_aligned.jpg``) and ``Image/original/``, whose five manual points
(eyes, nose, mouth corners: the first five lines of ``Annotation/manual/<stem>_manu_attri.txt``) align
them with the 5-point template as videos are."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import LabelFileError
from ..faces.align import geometry_problem
from ..labels import EXPRESSION_SPACES
from .records import MISSING, ImageRow, RowSet, file_problem

LIST = "EmoLabel/list_patition_label.txt"
ALIGNED = "Image/aligned"
ORIGINAL = "Image/original"
MANUAL = "Annotation/manual"
SPLITS = {"train": "train", "test": "test"}  # file name prefix -> split
CROPS = ("aligned", "original")


def read_rafdb(root: str | Path, crops: str = "auto") -> RowSet:
    """Rows of RAF-DB basic. ``crops``: 'aligned' (the database's crops), 'original' (the original images
    aligned by their manual points) or 'auto' (aligned where that folder exists)."""
    root = Path(root)
    path = root / LIST
    bad = file_problem(path)
    if bad == MISSING:
        raise LabelFileError(f"not a RAF-DB basic folder: no {LIST}", root)
    if bad is not None:
        raise LabelFileError(bad, path)
    if crops == "auto":
        crops = "aligned" if (root / ALIGNED).is_dir() else "original"
    if crops not in CROPS:
        raise LabelFileError(f"--crops must be aligned or original, not {crops!r}", root)
    classes = EXPRESSION_SPACES["rafdb-7"]
    rs = RowSet("rafdb", f"basic, {crops} images", root, "rafdb-7", classes,
                alignment="the database's aligned crops, resized" if crops == "aligned"
                else "5-point template from the manual points of Annotation/manual")
    rs.label_map = {f"{k + 1}": name for k, name in enumerate(classes)}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LabelFileError("not a text file", path) from None
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = raw.split()
        if len(parts) != 2:
            rs.problem(LIST, line, f"expected 'NAME.jpg LABEL', got {raw.strip()[:60]!r}")
            continue
        name, label = parts
        split = SPLITS.get(name.split("_")[0])
        stem = name.rsplit(".", 1)[0]
        if split is None or "/" in name or "\\" in name or not stem:
            rs.problem(LIST, line, f"image name {name[:60]!r} is not train_*.jpg or test_*.jpg")
            continue
        if not label.isdigit() or not 1 <= int(label) <= len(classes):
            rs.problem(LIST, line, f"label {label[:20]!r} is not 1..{len(classes)}")
            continue
        row = ImageRow("", split, "aligned", int(label) - 1, source_label=int(label), file=LIST, line=line)
        if crops == "aligned":
            row.path = f"{ALIGNED}/{stem}_aligned.jpg"
        else:
            row.path, row.method = f"{ORIGINAL}/{name}", "points5"
            row.points = _manual_points(rs, root / MANUAL / f"{stem}_manu_attri.txt", line)
            if row.points is None:
                continue
        if not rs.image_ok(LIST, line, row.path):
            continue
        rs.rows.append(row)
    return rs


def _manual_points(rs: RowSet, path: Path, line: int) -> np.ndarray | None:
    rel = path.relative_to(rs.root).as_posix()
    bad = file_problem(path)
    if bad is not None:
        rs.problem(LIST, line, f"no manual points: {path}" if bad == MISSING else f"manual points {path} {bad}")
        return None
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()[:5]
        pts = np.array([[float(v) for v in ln.split()[:2]] for ln in lines], np.float32)
    except (ValueError, UnicodeDecodeError, OSError):
        rs.problem(rel, None, "the first five lines must be 'x y' points")
        return None
    if pts.shape != (5, 2):
        rs.problem(rel, None, "the first five lines must be 'x y' points")
        return None
    bad = geometry_problem(pts)
    if bad:
        rs.problem(rel, None, bad)
        return None
    return pts
