"""Any CSV of image path + expression and/or valence, arousal and/or AUs.

Columns (case-insensitive): ``path`` (or image, file, filename; relative to the CSV's folder), then any of
``expression`` (or expr, label, emotion: a class name, or an index into --expr-space), ``valence`` and
``arousal``, ``AU<n>`` (0/1; -1 or blank: unlabelled) and ``split`` (train, val, test; else a random
--val share). Blank cells are unlabelled; names go through --label-map and the concept table.
"""
from __future__ import annotations

from pathlib import Path

from ..data.splits import SPLITS, normalise_split
from ..errors import LabelFileError
from ..fsio import csv_rows
from ..labels import AU_MISSING, EXPRESSION_SPACES, au_number
from .classfolders import assign_val
from .labelmap import choose_space, class_index
from .records import MISSING, ImageRow, RowSet, file_problem, parse_va, relative_image

PATH_COLUMNS = ("path", "image", "file", "filename")
EXPR_COLUMNS = ("expression", "expr", "label", "emotion")


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    low = [h.strip().lower() for h in header]
    return next((low.index(n) for n in names if n in low), None)


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and (line number, cells) of every row; a FIFO or device is refused by stat first."""
    if path.is_dir():
        raise LabelFileError("a CSV file is needed here, not a folder", path)
    bad = file_problem(path)
    if bad is not None:
        raise LabelFileError("file not found" if bad == MISSING else bad, path)
    rows = csv_rows(path, LabelFileError)  # bounded: a 1 GB line or a 200 KB cell is one line, not memory
    first = next(rows, None)
    if first is None:
        raise LabelFileError("empty CSV file", path)
    return first[1], list(rows)


def _au_columns(header: list[str], path: Path) -> list[tuple[int, str]]:
    """(column, 'AU<n>') of every AU column."""
    out: list[tuple[int, str]] = []
    for j, h in enumerate(header):
        if h.strip().upper().startswith("AU"):
            try:
                out.append((j, f"AU{au_number(h)}"))
            except ValueError:
                raise LabelFileError(f"column {h!r} is not an action unit name", path, 1) from None
    return out


def read_csv_table(path: str | Path, label_map: dict[str, str], expr_space: str | None = None,
                   method: str = "crop", val: float = 0.1, seed: int = 0) -> RowSet:
    path = Path(path)
    header, lines = _read_csv(path)
    col_path = _column(header, PATH_COLUMNS)
    if col_path is None:
        raise LabelFileError(f"no image path column (one of {', '.join(PATH_COLUMNS)})", path, 1)
    col_expr = _column(header, EXPR_COLUMNS)
    col_v, col_a, col_split = (_column(header, (n,)) for n in ("valence", "arousal", "split"))
    if (col_v is None) != (col_a is None):
        raise LabelFileError("valence and arousal come as a pair of columns", path, 1)
    au_cols = _au_columns(header, path)
    if col_expr is None and col_v is None and not au_cols:
        raise LabelFileError("no label column: expression, valence/arousal or AU<n>", path, 1)
    names = [c[col_expr].strip() for _, c in lines if col_expr is not None and len(c) > col_expr
             and c[col_expr].strip() and not c[col_expr].strip().lstrip("-").isdigit()]
    space = choose_space(names, label_map, expr_space, path) if names or expr_space else "affwild2"
    classes = EXPRESSION_SPACES[space]
    rs = RowSet("csv", "image table", path.parent, space, classes, tuple(a for _, a in au_cols),
                has_va=col_v is not None,
                alignment="images taken as face crops, resized" if method == "crop"
                else "faces detected, 5-point template from 68 landmarks")
    rel_csv = path.name
    with_split = col_split is not None
    for line, cells in lines:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            rs.problem(rel_csv, line, f"{len(cells)} columns, expected {len(header)}")
            continue
        image = relative_image(cells[col_path])
        if image is None:
            rs.problem(rel_csv, line, f"image path {cells[col_path][:60]!r} is not a relative path inside "
                                      f"{path.parent}")
            continue
        row = ImageRow(image, "train", method, file=rel_csv, line=line)
        bad = _labels(row, cells, col_expr, col_v, col_a, au_cols, classes, label_map, space)
        if bad is None and col_split is not None:
            split = normalise_split(cells[col_split])
            bad = None if split in SPLITS else f"split {cells[col_split][:20]!r} is not train, val or test"
            row.split = split
        if bad:
            rs.problem(rel_csv, line, bad)
            continue
        if not rs.image_ok(rel_csv, line, image):
            continue
        if row.expr < 0 and row.va[0] != row.va[0] and all(a == AU_MISSING for a in row.au):
            rs.drop("no label in any column")
            continue
        rs.rows.append(row)
    if names:
        rs.label_map = {n: classes[k] for n in sorted(set(names))
                        if (k := class_index(n, classes, label_map)) is not None}
    if not with_split:
        assign_val(rs.rows, val, seed)
        if val > 0:
            rs.notes.append(f"no split column: {val:.0%} of the rows drawn at random (seed {seed}) for 'val'")
    return rs


def _labels(row: ImageRow, cells: list[str], col_expr: int | None, col_v: int | None, col_a: int | None,
            au_cols: list[tuple[int, str]], classes: tuple[str, ...], label_map: dict[str, str],
            space: str) -> str | None:
    """Fill the row's labels from its cells; the problem text, or None."""
    if col_expr is not None and cells[col_expr].strip():
        cell = cells[col_expr].strip()
        if cell.lstrip("-").isdigit():
            k = int(cell)
            if not -1 <= k < len(classes):
                return f"expression {k} out of range 0..{len(classes) - 1} of {space} (or -1)"
            row.expr = k
        else:
            j = class_index(cell, classes, label_map)
            if j is None:
                return f"expression {cell[:30]!r} is not a class of {space}; map it with --label-map"
            row.expr = j
    if col_v is not None and col_a is not None and (cells[col_v].strip() or cells[col_a].strip()):
        row.va, bad = parse_va(cells[col_v], cells[col_a], None)
        if bad:
            return bad
    au = []
    for j, name in au_cols:
        cell = cells[j].strip()
        if cell in ("", "-1"):
            au.append(AU_MISSING)
        elif cell in ("0", "1", "0.0", "1.0"):
            au.append(int(float(cell)))
        else:
            return f"{name} {cell[:20]!r} is not 0 or 1 (or -1 / blank)"
    row.au = tuple(au)
    return None
