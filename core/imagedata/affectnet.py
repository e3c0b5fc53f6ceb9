"""AffectNet, in its original layout and in the widely shared re-packaging (SPEC.md, Still-image databases).

Original: ``Manually_Annotated_file_lists/{training,validation}.csv`` (subDirectory_filePath, face_x,
face_y, face_width, face_height, facial_landmarks "x;y;...", expression 0-10, valence, arousal; -2 =
no VA) with images under ``Manually_Annotated_Images/``. Re-packaged: ``train_set/`` and ``val_set/``,
each ``images/N.jpg`` (face crops) and ``annotations/N_exp.npy``, ``N_val.npy``, ``N_aro.npy``,
``N_lnd.npy``. Expression 8 None and 9 Uncertain keep their VA (the expression is unlabelled); 10
No-Face rows are left out.
"""
from __future__ import annotations

import ast
import os
import struct
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import LabelFileError
from ..faces.align import geometry_problem
from ..fsio import csv_rows
from ..labels import EXPRESSION_SPACES, expression_mapping
from .records import MISSING, ImageRow, RowSet, file_problem, parse_va, relative_image

LABELS = EXPRESSION_SPACES["affectnet-8"] + ("None", "Uncertain", "No-Face")
NO_FACE = 10
VA_MISSING = -2.0
LISTS = "Manually_Annotated_file_lists"
IMAGES = "Manually_Annotated_Images"
ORIGINAL = {"train": "training.csv", "val": "validation.csv"}
COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "facial_landmarks",
           "expression", "valence", "arousal")
REPACKAGED = {"train": "train_set", "val": "val_set"}


def detect_layout(root: Path) -> str:
    if (root / LISTS).is_dir():
        return "original"
    if any((root / d).is_dir() for d in REPACKAGED.values()):
        return "repackaged"
    raise LabelFileError(f"not an AffectNet folder: expected {LISTS}/ (original layout) or train_set/ and "
                         "val_set/ (re-packaged layout)", root)


def read_affectnet(root: str | Path, expr_space: str = "affectnet-8") -> RowSet:
    """Rows of either layout, expressions in ``expr_space`` ('affectnet-8' or 'affectnet-7')."""
    root = Path(root)
    if expr_space not in ("affectnet-8", "affectnet-7"):
        raise LabelFileError(f"AffectNet imports as affectnet-8 or affectnet-7, not {expr_space!r}", root)
    layout = detect_layout(root)
    classes = EXPRESSION_SPACES[expr_space]
    rs = RowSet("affectnet", layout, root, expr_space, classes, has_va=True,
                alignment="5-point template from the 68 landmarks (face box where a row has none)")
    keep = expression_mapping("affectnet-8", expr_space)
    for k, name in enumerate(LABELS):
        if k < len(keep.index) and keep.index[k] >= 0:
            rs.label_map[f"{k} {name}"] = classes[keep.index[k]]
        elif k == NO_FACE:
            rs.label_map[f"{k} {name}"] = "row left out (no face)"
        else:
            rs.label_map[f"{k} {name}"] = f"expression unlabelled (not a class of {expr_space}); VA kept"
    (_original if layout == "original" else _repackaged)(rs, keep.index)
    return rs


def _labels(rs: RowSet, expression: int, va: tuple[float, float], classes: tuple[int, ...]) -> int | None:
    """The expression index to store, or None when the row is left out (counted in ``dropped``)."""
    if expression == NO_FACE:
        rs.drop("expression 10 (No-Face)")
        return None
    expr = classes[expression] if expression < len(classes) else -1
    if expr < 0 and not np.isfinite(va[0]):
        rs.drop(f"expression {expression} ({LABELS[expression]}) without valence/arousal")
        return None
    return expr


def _original(rs: RowSet, classes: tuple[int, ...]) -> None:
    for split, name in ORIGINAL.items():
        path = rs.root / LISTS / name
        rel = f"{LISTS}/{name}"
        bad = file_problem(path)
        if bad == MISSING:
            rs.notes.append(f"no {rel}: no {split} split")
            continue
        if bad is not None:
            raise LabelFileError(bad, path)
        rows = csv_rows(path, LabelFileError)  # bounded: a 1 GB line or a 200 KB cell is one line, not memory
        first = next(rows, None)
        if first is None or tuple(h.strip() for h in first[1]) != COLUMNS:
            raise LabelFileError(f"wrong header (expected {','.join(COLUMNS)})", path, 1)
        for line, cells in rows:
            _original_row(rs, split, rel, line, cells, classes)


def _original_row(rs: RowSet, split: str, rel: str, line: int, cells: list[str], classes: tuple[int, ...]) -> None:
    if len(cells) != len(COLUMNS):
        rs.problem(rel, line, f"{len(cells)} columns, expected {len(COLUMNS)}")
        return
    image = relative_image(f"{IMAGES}/{cells[0].strip()}")
    if image is None or not cells[0].strip():
        rs.problem(rel, line, f"image path {cells[0]!r} is not a relative path inside the database")
        return
    try:
        box = tuple(float(c) for c in cells[1:5])
        expression = int(cells[6])
    except ValueError:
        rs.problem(rel, line, "face box and expression must be numbers")
        return
    if not 0 <= expression < len(LABELS):
        rs.problem(rel, line, f"expression {expression} out of range 0..{len(LABELS) - 1}")
        return
    va, bad = parse_va(cells[7], cells[8], VA_MISSING)
    if bad:
        rs.problem(rel, line, bad)
        return
    points = None
    if cells[5].strip():
        try:
            pts = np.array([float(v) for v in cells[5].split(";") if v.strip()], np.float32)
        except ValueError:
            rs.problem(rel, line, "facial_landmarks must be numbers separated by ';'")
            return
        if pts.size != 136:
            rs.problem(rel, line, f"facial_landmarks has {pts.size} numbers, expected 136 (68 points)")
            return
        points = pts.reshape(68, 2)
    bad_geometry = geometry_problem(points) if points is not None else geometry_problem(None, box)  # type: ignore[arg-type]
    if bad_geometry:
        rs.problem(rel, line, bad_geometry if points is not None else f"no landmarks, and the {bad_geometry}")
        return
    if not rs.image_ok(rel, line, image):
        return
    expr = _labels(rs, expression, va, classes)
    if expr is None:
        return
    rs.rows.append(ImageRow(image, split, "landmarks68" if points is not None else "box", expr, va,
                            points=points, box=box, source_label=expression, file=rel, line=line))  # type: ignore[arg-type]


_HEADERS: dict[bytes, tuple[np.dtype, tuple[int, ...], bool]] = {}
NPY_LIMIT = 1 << 20  # an annotation .npy holds one value or 136 numbers


def _read_npy(path: Path) -> np.ndarray:
    """A small .npy file, as ``np.load(allow_pickle=False)`` reads it, in one read and with its header
    parsed once per distinct header (the re-packaging's 1.2 million files share a handful)."""
    with open(path, "rb") as f:
        raw = f.read(NPY_LIMIT)
    if raw[:6] != b"\x93NUMPY":
        raise ValueError("not a NumPy .npy file")
    if raw[6] == 1:
        size, start = struct.unpack("<H", raw[8:10])[0], 10
    elif raw[6] in (2, 3):
        size, start = struct.unpack("<I", raw[8:12])[0], 12
    else:
        raise ValueError(f"unknown .npy format version {raw[6]}")
    header = raw[start:start + size]
    if header not in _HEADERS:
        d = ast.literal_eval(header.decode("latin-1"))
        dtype = np.lib.format.descr_to_dtype(d["descr"])
        if dtype.hasobject:
            raise ValueError("holds Python objects, which are never loaded")
        if len(_HEADERS) < 256:
            _HEADERS[header] = (dtype, tuple(d["shape"]), bool(d["fortran_order"]))
        else:
            return np.frombuffer(raw, dtype, int(np.prod(d["shape"])), start + size).reshape(
                d["shape"], order="F" if d["fortran_order"] else "C")
    dtype, shape, fortran = _HEADERS[header]
    return np.frombuffer(raw, dtype, int(np.prod(shape)), start + size).reshape(shape, order="F" if fortran else "C")


def _scalar(path: Path) -> float:
    """The one value of an annotation .npy (the re-packaging stores numbers as strings, e.g. '1')."""
    a = _read_npy(path).reshape(-1)
    return float(a[0]) if a.size == 1 else float("nan")


def _landmarks(path: Path) -> np.ndarray:
    return _read_npy(path).astype(np.float32).reshape(-1)


class _Unreadable(Exception):
    """An annotation file that cannot be used; ``file`` is the one at fault (relative to the root)."""

    def __init__(self, file: str, why: str) -> None:
        super().__init__(why)
        self.file = file


def _load(rs: RowSet, folder: str, entries: dict[str, os.DirEntry[str]], stem: str, kind: str,
          reader: Callable[[Path], Any]) -> Any:
    """``reader`` of ``<stem>_<kind>.npy``, None when the file does not exist; _Unreadable when it is not
    a regular file (a FIFO would block the read: the folder listing says so without opening it) or
    cannot be read."""
    name = f"{stem}_{kind}.npy"
    rel = f"{folder}/annotations/{name}"
    entry = entries.get(name)
    if entry is None:
        return None
    if not entry.is_file():
        bad = file_problem(rs.root / rel)
        if bad == MISSING:  # a dangling link
            return None
        raise _Unreadable(rel, bad or "not a regular file")
    try:
        return reader(rs.root / rel)
    except (ValueError, OSError, IndexError, EOFError, SyntaxError, KeyError, TypeError) as exc:
        raise _Unreadable(rel, f"unreadable annotation ({type(exc).__name__}: {exc})") from None


def _listing(folder: Path) -> dict[str, os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return {e.name: e for e in it}
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise LabelFileError(f"cannot list the folder ({e.strerror or e})", folder) from None


def _repackaged(rs: RowSet, classes: tuple[int, ...]) -> None:
    rs.alignment = "5-point template from N_lnd.npy (the whole crop where a row has none)"
    for split, folder in REPACKAGED.items():
        base = rs.root / folder
        if not base.is_dir():
            rs.notes.append(f"no {folder}/: no {split} split")
            continue
        images = {n[:-4] for n in _listing(base / "images") if n.endswith(".jpg") and n[:-4].isdigit()}
        entries = _listing(base / "annotations")
        stems = {n[:-8] for n in entries if n.endswith("_exp.npy") and n[:-8].isdigit()}
        for stem in sorted(stems | images, key=int):
            _repackaged_row(rs, classes, split, folder, entries, stem, stem in images)


def _repackaged_row(rs: RowSet, classes: tuple[int, ...], split: str, folder: str,
                    entries: dict[str, os.DirEntry[str]], stem: str, has_image: bool) -> None:
    rel = f"{folder}/annotations/{stem}_exp.npy"
    if not has_image:
        rs.problem(rel, None, f"no image {rs.root / folder / 'images' / stem}.jpg")
        return
    try:
        e = _load(rs, folder, entries, stem, "exp", _scalar)
        if e is None:
            raise _Unreadable(rel, "missing annotation (the expression of this image)")
        v = _load(rs, folder, entries, stem, "val", _scalar)
        a = _load(rs, folder, entries, stem, "aro", _scalar)
        if (v is None) != (a is None):
            missing = "val" if v is None else "aro"
            raise _Unreadable(f"{folder}/annotations/{stem}_{missing}.npy", "missing (its VA partner exists)")
        pts = _load(rs, folder, entries, stem, "lnd", _landmarks)
    except _Unreadable as err:
        rs.problem(err.file, None, str(err))
        return
    if not np.isfinite(e) or e != int(e) or not 0 <= e < len(LABELS):
        rs.problem(rel, None, f"expression {e:g} is not a label 0..{len(LABELS) - 1}")
        return
    va, bad_va = parse_va(str(v if v is not None else VA_MISSING), str(a if a is not None else VA_MISSING),
                          VA_MISSING)
    if bad_va:
        rs.problem(f"{folder}/annotations/{stem}_val.npy", None, bad_va)
        return
    lnd = f"{folder}/annotations/{stem}_lnd.npy"
    if pts is not None and pts.size != 136:
        rs.problem(lnd, None, f"{pts.size} landmark numbers, expected 136 (68 points)")
        return
    if pts is not None and (bad_geometry := geometry_problem(pts.reshape(68, 2))):
        rs.problem(lnd, None, bad_geometry)
        return
    expr = _labels(rs, int(e), va, classes)
    if expr is None:
        return
    rs.rows.append(ImageRow(f"{folder}/images/{stem}.jpg", split, "landmarks68" if pts is not None else "crop",
                            expr, va, points=None if pts is None else pts.reshape(68, 2), source_label=int(e),
                            file=rel))
