"""Any database laid out as one folder per class: ``ROOT/<class>/*.jpg``, or ``ROOT/<split>/<class>/*.jpg``
with split folders such as train, val (validation) and test. Folder names are expression names (any
spelling of the concept table, e.g. 'happy', 'angry') or are given with --label-map."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.splits import SPLITS, normalise_split
from ..errors import LabelFileError
from ..labels import EXPRESSION_SPACES
from .labelmap import choose_space, class_index, concept_of
from .records import ImageRow, RowSet, file_problem

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def assign_val(rows: list[ImageRow], val: float, seed: int) -> None:
    """Move a random ``val`` share of the rows to the 'val' split (a database without splits)."""
    if val <= 0 or not rows:
        return
    rng = np.random.default_rng(seed)
    for k in rng.permutation(len(rows))[: max(1, round(val * len(rows)))]:
        rows[int(k)].split = "val"


def read_class_folders(root: str | Path, label_map: dict[str, str], expr_space: str | None = None,
                       method: str = "crop", val: float = 0.1, seed: int = 0) -> RowSet:
    """Rows of a class-folder tree. ``method``: 'crop' (images are face crops) or 'detect' (find and
    align the face). ``val``: share moved to a 'val' split when the tree has no split folders."""
    root = Path(root)
    if not root.is_dir():
        raise LabelFileError("not a folder", root)
    subdirs = sorted(p for p in root.iterdir() if p.is_dir())
    split_level = bool(subdirs) and all(normalise_split(p.name) in SPLITS for p in subdirs)
    groups = [(normalise_split(s.name), c) for s in subdirs for c in sorted(s.iterdir()) if c.is_dir()] \
        if split_level else [("train", c) for c in subdirs]
    if not groups:
        raise LabelFileError("no class folders (expected ROOT/<class>/ or ROOT/<split>/<class>/)", root)
    known = [c.name for _, c in groups if concept_of(c.name, label_map) is not None]
    space = choose_space(known, label_map, expr_space, root)
    classes = EXPRESSION_SPACES[space]
    rs = RowSet("folders", "split/class folders" if split_level else "class folders", root, space, classes,
                alignment="images taken as face crops, resized" if method == "crop"
                else "faces detected, 5-point template from 68 landmarks")
    skipped_files = 0
    for split, folder in groups:
        rel = folder.relative_to(root).as_posix()
        j = class_index(folder.name, classes, label_map)
        if j is None:
            rs.problem(rel, None, f"folder {folder.name!r} is not a class of {space} "
                                  f"({', '.join(classes)}); map it with --label-map {folder.name}=CLASS")
            continue
        rs.label_map[folder.name] = classes[j]
        for img in sorted(folder.iterdir()):
            if img.suffix.lower() not in IMAGE_SUFFIXES or img.is_dir():
                skipped_files += 1
                continue
            bad = file_problem(img)
            if bad is not None:  # an image name on a FIFO, a device or a broken link
                rs.problem(img.relative_to(root), None, bad)
                continue
            rs.rows.append(ImageRow(img.relative_to(root).as_posix(), split, method, j, file=rel))
    if skipped_files:
        rs.notes.append(f"{skipped_files} entries that are not images were ignored")
    if not split_level:
        assign_val(rs.rows, val, seed)
        if val > 0:
            rs.notes.append(f"no split folders: {val:.0%} of the images drawn at random (seed {seed}) for 'val'")
    return rs
