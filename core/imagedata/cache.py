"""One HDF5 face-crop cache per image dataset: every image's 112x112 uint8 RGB crop, its labels, split and
provenance, plus the label-space mapping and alignment in the attributes.

Layout: ``crops`` (n, 112, 112, 3) uint8, stored contiguous and uncompressed so readers memory-map it
(any row, any batch, no decoding, shared by loader processes through the page cache); ``expr`` (n,) int8
(-1 unlabelled, classes of attrs ``expr_classes``); ``va`` (n, 2) float32 (NaN unlabelled); ``au`` (n, k)
int8 (-1 unlabelled, attrs ``au_names``); ``split`` (n,) uint8 into attrs ``splits``; ``method`` (n,) uint8
into CROP_METHODS (0: no crop could be made, the row is left out); ``path``, ``file``, ``line`` and
``source_label`` (where each row came from). Written to ``NAME.part`` and renamed when complete; an
interrupted import resumes there.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import AffectTraceError
from ..faces.align import CROP_SIZE, TEMPLATE_112
from ..labels import AU_MISSING, EXPR_MISSING
from .records import CROP_METHODS, RowSet, display

FORMAT = "affecttrace-image-dataset"
VERSION = 1
CROP_SHAPE = (CROP_SIZE, CROP_SIZE, 3)


def source_key(rs: RowSet) -> str:
    """What an interrupted import must match to be resumed: the database, every row's image (path,
    size and modification time), split, method, labels and geometry. A label edited between the
    interruption and the rerun changes the key, so nothing stale is kept."""
    h = hashlib.sha256(json.dumps([rs.database, rs.layout, str(rs.root.resolve()), rs.expr_space, rs.alignment,
                                   rs.au_names, list(rs.expr_classes)]).encode())
    for r in rs.rows:
        try:
            st = os.stat(rs.root / r.path)
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            stamp = "-"
        h.update(f"{r.path}\0{stamp}\0{r.split}\0{r.method}\0{r.expr}\0{r.va[0]!r},{r.va[1]!r}\0{r.au}\0"
                 f"{r.box}\0{r.source_label}\0".encode("utf-8", "surrogateescape"))
        if r.points is not None:
            h.update(np.ascontiguousarray(r.points, np.float32).tobytes())
    return h.hexdigest()[:32]


def create_part(path: Path, rs: RowSet) -> tuple[Any, int]:
    """Open ``path`` (a .part file) to write ``rs`` into; (h5 file, first row still to crop)."""
    import h5py

    key = source_key(rs)
    if path.exists():
        try:
            f = h5py.File(path, "r+")
            if f.attrs.get("source_key") == key and "crops" in f:
                return f, int(f.attrs.get("next_row", 0))
            f.close()
        except OSError:
            pass
        path.unlink()
        rs.notes.append(f"an interrupted import ({path.name}) was of other images or labels: started over")
    n, k = len(rs.rows), len(rs.au_names)
    splits = sorted({r.split for r in rs.rows}, key=lambda s: ("train", "val", "test").index(s)
                    if s in ("train", "val", "test") else 9)
    files = sorted({r.file for r in rs.rows})
    f = h5py.File(path, "w")
    f.create_dataset("crops", shape=(n, *CROP_SHAPE), dtype=np.uint8)  # contiguous: memory-mappable
    f.create_dataset("expr", data=np.array([r.expr for r in rs.rows], np.int8).reshape(n))
    f.create_dataset("va", data=np.array([r.va for r in rs.rows], np.float32).reshape(n, 2))
    au = np.full((n, k), AU_MISSING, np.int8)
    for i, r in enumerate(rs.rows):
        if r.au:
            au[i] = r.au
    f.create_dataset("au", data=au)
    f.create_dataset("split", data=np.array([splits.index(r.split) for r in rs.rows], np.uint8).reshape(n))
    f.create_dataset("method", data=np.zeros(n, np.uint8))
    f.create_dataset("path", data=[display(r.path) for r in rs.rows], dtype=h5py.string_dtype())
    index = {name: k for k, name in enumerate(files)}  # one label file per image in some layouts: 290,000
    f.create_dataset("file", data=np.array([index[r.file] for r in rs.rows], np.uint32).reshape(n))
    f.create_dataset("files", data=[display(name) for name in files], dtype=h5py.string_dtype())
    f.create_dataset("line", data=np.array([r.line for r in rs.rows], np.int32).reshape(n))
    f.create_dataset("source_label", data=np.array([r.source_label for r in rs.rows], np.int16).reshape(n))
    attrs = {"format": FORMAT, "version": VERSION, "database": rs.database, "layout": rs.layout,
             "root": display(str(rs.root.resolve())), "expr_space": rs.expr_space,
             "expr_classes": json.dumps(list(rs.expr_classes)), "au_names": json.dumps(list(rs.au_names)),
             "has_va": bool(rs.has_va), "alignment": rs.alignment, "template": json.dumps(TEMPLATE_112.tolist()),
             "crop_size": CROP_SIZE, "splits": json.dumps(splits),
             "label_map": json.dumps(rs.label_map), "source_key": key, "next_row": 0, "complete": False}
    f.attrs.update(attrs)
    return f, 0


def finish_part(f: Any, path: Path, out: Path, notes: list[str], dropped: dict[str, int], skipped: int) -> None:
    f.attrs.update({"notes": json.dumps(notes), "dropped": json.dumps(dropped), "rows_skipped_invalid": skipped,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "complete": True})
    f.close()
    path.replace(out)


class ImageDataset:
    """An image dataset cache opened for reading. Crops are memory-mapped; labels are in memory.
    Safe to pickle (loader processes map the file again)."""

    def __init__(self, path: str | Path) -> None:
        import h5py

        self.path = Path(path)
        if not self.path.is_file():
            raise AffectTraceError("image dataset not found (make one with `affecttrace import-images`)", self.path)
        try:
            with h5py.File(self.path, "r") as f:
                a = dict(f.attrs)
                if a.get("format") != FORMAT:
                    raise AffectTraceError("not an AffectTrace image dataset", self.path)
                if int(a.get("version", 0)) > VERSION:
                    raise AffectTraceError(f"image dataset format {a['version']} is newer than this AffectTrace",
                                           self.path)
                if not a.get("complete"):
                    raise AffectTraceError("incomplete import: run the import command again to finish it", self.path)
                self.expr = f["expr"][()].astype(np.int64)
                self.va = f["va"][()]
                self.au = f["au"][()]
                self.split_index = f["split"][()]
                self.method = f["method"][()]
                self.paths = [p.decode() if isinstance(p, bytes) else str(p) for p in f["path"][()]]
                self._offset = f["crops"].id.get_offset()
                self._chunked = f["crops"].chunks is not None
                crops_shape = tuple(f["crops"].shape)
            self.attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in a.items()}
            self.name = self.path.stem
            self.database = str(self.attrs["database"])
            self.expr_space = str(self.attrs["expr_space"])
            self.expr_classes = tuple(str(c) for c in json.loads(self.attrs["expr_classes"]))
            self.au_names = tuple(str(c) for c in json.loads(self.attrs["au_names"]))
            self.has_va = bool(self.attrs["has_va"])
            self.splits = tuple(str(c) for c in json.loads(self.attrs["splits"]))
        except OSError as e:
            raise AffectTraceError(f"not a readable image dataset ({e})", self.path) from None
        except (KeyError, ValueError, TypeError) as e:  # a field missing or garbled: one line, not a traceback
            raise AffectTraceError(f"damaged image dataset ({type(e).__name__}: {str(e)[:120]})", self.path) from None
        self._check_sizes(crops_shape)
        self._crops: Any = None

    def _check_sizes(self, crops_shape: tuple[int, ...]) -> None:
        """Every per-row array as long as the crops, and the file long enough to map them (a cut file
        would fail later inside mmap)."""
        n = len(self.expr)
        lengths = {len(self.va), len(self.au), len(self.split_index), len(self.method), len(self.paths)}
        if lengths != {n} or crops_shape != (n, *CROP_SHAPE):
            raise AffectTraceError(f"damaged image dataset: {n} labels but crops of shape {crops_shape} and "
                                   f"per-row arrays of lengths {sorted(lengths)}", self.path)
        need = int(self._offset or 0) + n * int(np.prod(CROP_SHAPE))
        if not self._chunked and self._offset is not None and n and self.path.stat().st_size < need:
            raise AffectTraceError(f"damaged image dataset: cut off ({self.path.stat().st_size:,} of {need:,} bytes)",
                                   self.path)

    def __len__(self) -> int:
        return len(self.expr)

    @property
    def crops(self) -> Any:
        """(n, 112, 112, 3) uint8: a memory map (an h5py dataset where the file is chunked)."""
        if self._crops is None:
            n = len(self.expr)
            if self._chunked:
                import h5py

                self._crops = h5py.File(self.path, "r")["crops"]
            elif self._offset is None or n == 0:
                self._crops = np.zeros((n, *CROP_SHAPE), np.uint8)
            else:
                self._crops = np.memmap(self.path, np.uint8, "r", int(self._offset), (n, *CROP_SHAPE))
        return self._crops

    def take(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """(len(rows), 112, 112, 3) uint8 crops of these rows, in their order."""
        idx = np.asarray(rows, np.int64)
        if not self._chunked:
            return np.asarray(self.crops[idx])
        uniq, inverse = np.unique(idx, return_inverse=True)
        return self.crops[uniq][inverse]

    def rows(self, split: str | None = None) -> np.ndarray:
        """Row indices with a crop, in ``split`` ('train', 'val', 'test'; None: all)."""
        ok = self.method > 0
        if split is not None:
            if split not in self.splits:
                return np.zeros(0, np.int64)
            ok &= self.split_index == self.splits.index(split)
        return np.flatnonzero(ok)

    def summary(self) -> dict[str, Any]:
        """Counts per split and class, the label spaces and how the crops were made (JSON-able)."""
        per: dict[str, Any] = {}
        for s in self.splits:
            r = self.rows(s)
            e = self.expr[r]
            per[s] = {"images": int(len(r)),
                      "expression": {c: int((e == j).sum()) for j, c in enumerate(self.expr_classes)},
                      "expression_unlabelled": int((e == EXPR_MISSING).sum()),
                      "va_labelled": int(np.isfinite(self.va[r]).all(1).sum())}
            if self.au_names:
                per[s]["au_labelled"] = int((self.au[r] != AU_MISSING).all(1).sum())
        methods = {CROP_METHODS[m]: int((self.method == m).sum()) for m in np.unique(self.method)}
        return {"dataset": str(self.path), "database": self.database, "layout": self.attrs.get("layout"),
                "expr_space": self.expr_space, "expr_classes": list(self.expr_classes),
                "au_names": list(self.au_names), "has_va": self.has_va, "alignment": self.attrs.get("alignment"),
                "crop_methods": methods, "splits": per, "label_map": json.loads(self.attrs.get("label_map", "{}")),
                "dropped": json.loads(self.attrs.get("dropped", "{}")),
                "notes": json.loads(self.attrs.get("notes", "[]"))}

    def __enter__(self) -> "ImageDataset":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._crops is not None and hasattr(self._crops, "file"):
            self._crops.file.close()
        self._crops = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_crops"] = None
        return state


def describe_dataset(path: str | Path) -> dict[str, Any]:
    """What ``affecttrace info`` says of an image dataset: database, layout, images per split and class,
    label spaces and map, how the crops were made, what was left out, when and from where."""
    with ImageDataset(path) as ds:
        s = ds.summary()
        a = ds.attrs
        out = {"image dataset": s["dataset"], "database": f"{s['database']} ({s['layout']})",
               "source": a.get("root"), "created": a.get("created"), "images": len(ds.rows()),
               "expressions": f"{s['expr_space']}: {', '.join(s['expr_classes'])}",
               "valence/arousal": "yes" if s["has_va"] else "no",
               "action units": ", ".join(s["au_names"]) or "none",
               "crops": f"{a.get('crop_size')}x{a.get('crop_size')} RGB, {s['alignment']}",
               "crop methods": s["crop_methods"], "splits": s["splits"], "label map": s["label_map"],
               "left out": s["dropped"], "invalid rows skipped": int(a.get("rows_skipped_invalid", 0)),
               "notes": "; ".join(s["notes"]) or "none"}
    return out


def write_arrays(out: str | Path, crops: np.ndarray, expr: np.ndarray, expr_space: str,
                 split: Sequence[str], va: np.ndarray | None = None, au_names: tuple[str, ...] = (),
                 au: np.ndarray | None = None, database: str = "generated") -> Path:
    """An image dataset cache from arrays already made (benchmarks, tests): ``crops`` (n, 112, 112, 3)
    uint8 taken as aligned, ``expr`` (n,) class indices of ``expr_space``, ``split`` (n,) split names."""
    from ..labels import expression_space
    from .records import ImageRow

    out = Path(out)
    n = len(crops)
    va = np.full((n, 2), np.nan, np.float32) if va is None else va
    rows = [ImageRow(f"{database}/{i}", split[i], "crop", int(expr[i]), (float(va[i, 0]), float(va[i, 1])),
                     tuple(int(a) for a in au[i]) if au is not None else ()) for i in range(n)]
    rs = RowSet(database, "arrays", out.parent, expr_space, expression_space(expr_space), tuple(au_names),
                has_va=bool(np.isfinite(va).any()), alignment="given crops", rows=rows)
    part = out.with_name(out.name + ".part")
    f, _ = create_part(part, rs)
    try:
        f["crops"][:] = crops
        f["method"][:] = CROP_METHODS.index("crop")
        finish_part(f, part, out, [], {}, 0)
    finally:
        if f.id.valid:
            f.close()
    return out
