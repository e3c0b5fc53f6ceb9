"""``import_images``: read a database (any layout of this package), make every face crop (in worker
processes) and write the dataset cache, resumably. Invalid rows abort before anything is written unless
``skip_invalid``; images without a face are left out and counted."""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Generator

import numpy as np

from ..data.workers import die_with_parent, worker_context
from ..errors import AffectTraceError
from ..interchange.labelfile import Problem
from ..progress import CancelToken, Progress, no_progress
from .affectnet import read_affectnet
from .cache import ImageDataset, create_part, finish_part
from .classfolders import read_class_folders
from .crops import GEOMETRY_METHODS, NO_FACE, Crop, make_crop
from .csvtable import read_csv_table
from .labelmap import parse_label_map
from .rafdb import read_rafdb
from .records import CROP_METHODS, ImageRow, InvalidRowsError, RowSet, display

DATABASES = ("affectnet", "rafdb", "folders", "csv")
BLOCK = 256  # rows cropped and written between resume points
CHUNK = 16  # rows per task sent to a worker process


@dataclass
class ImportOptions:
    expr_space: str | None = None  # affectnet: affectnet-8 (default) or -7; folders/csv: inferred
    label_map: str | None = None  # folders/csv: "name=Class,..."
    faces: str = "crops"  # folders/csv: 'crops' (images are face crops) or a face backend to detect with
    crops: str = "auto"  # rafdb: aligned | original | auto
    val: float = 0.1  # folders/csv without splits: share drawn for 'val'
    seed: int = 0
    skip_invalid: bool = False
    workers: int = 0  # crop-making processes (0: in this process)


@dataclass
class ImportReport:
    dataset: Path
    summary: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    resumed_at: int = 0

    def lines(self) -> list[str]:
        s = self.summary
        per = ", ".join(f"{k} {v['images']}" for k, v in s["splits"].items())
        out = [f"{self.dataset}: {s['database']} ({s['layout']}), {per} images; expressions {s['expr_space']} "
               f"({', '.join(s['expr_classes'])})" + (", VA" if s["has_va"] else "")
               + (f", AUs {', '.join(s['au_names'])}" if s["au_names"] else ""),
               f"crops: {s['alignment']}"]
        if s["label_map"]:
            out.append("labels: " + "; ".join(f"{k} -> {v}" for k, v in s["label_map"].items()))
        for reason, n in s["dropped"].items():
            out.append(f"left out: {n} row(s) with {reason}")
        if self.problems:
            out.append(f"skipped {len(self.problems)} invalid row(s):")
            out += [f"  {p}" for p in self.problems]  # every one: all can be fixed in one pass
        out += [f"note: {n}" for n in s["notes"]]
        if self.resumed_at:
            out.append(f"resumed an interrupted import at row {self.resumed_at}")
        return [display(line) for line in out]


def read_database(database: str, root: str | Path, opt: ImportOptions) -> RowSet:
    """The rows of a database (no image is opened except to check that it exists)."""
    if database == "affectnet":
        return read_affectnet(root, opt.expr_space or "affectnet-8")
    if database == "rafdb":
        return read_rafdb(root, opt.crops)
    method = "crop" if opt.faces == "crops" else "detect"
    label_map = parse_label_map(opt.label_map, root)
    if database == "folders":
        return read_class_folders(root, label_map, opt.expr_space, method, opt.val, opt.seed)
    if database == "csv":
        return read_csv_table(root, label_map, opt.expr_space, method, opt.val, opt.seed)
    raise AffectTraceError(f"unknown database {database!r}; choose one of {', '.join(DATABASES)}")


def _crop_chunk(tasks: list[tuple[Path, ImageRow, str]]) -> list[Crop]:
    return [make_crop(*t) for t in tasks]


def _crops(rs: RowSet, start: int, backend: str, workers: int) -> Generator[Crop, None, None]:
    """Each row's crop from ``start`` on, in order. With workers, at most a few chunks per worker are in
    flight: memory stays bounded at any database size, and a cancel or an error stops within a chunk
    (the generator must be closed: ``contextlib.closing``)."""
    tasks = ((rs.root, r, backend) for r in rs.rows[start:])
    if workers <= 0:
        yield from (make_crop(*t) for t in tasks)
        return
    pool = ProcessPoolExecutor(workers, mp_context=worker_context(("core.imagedata.crops",)),
                               initializer=die_with_parent)
    try:
        pending: deque[Future[list[Crop]]] = deque()
        while chunk := list(islice(tasks, CHUNK)):
            pending.append(pool.submit(_crop_chunk, chunk))
            if len(pending) >= 4 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def import_images(database: str, root: str | Path, out: str | Path, opt: ImportOptions | None = None,
                  progress: Progress = no_progress, cancel: CancelToken | None = None) -> ImportReport:
    """Read ``root`` as ``database``, crop every face and write the cache ``out`` (an .h5 file)."""
    opt = opt or ImportOptions()
    out = Path(out)
    rs = read_database(database, root, opt)
    if rs.problems and not opt.skip_invalid:
        raise InvalidRowsError(rs.problems, rs.root)
    if not rs.rows:
        raise AffectTraceError("no labelled image to import" + (f" ({len(rs.problems)} invalid rows)"
                                                                if rs.problems else ""), rs.root)
    if out.exists() and out.is_dir():
        raise AffectTraceError("the output must be a file (e.g. affectnet.h5), not a folder", out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    f, resumed_at = create_part(part, rs)
    problems = list(rs.problems)
    try:
        method = f["method"][()]
        failures: dict[int, str] = {}
        start = i = resumed_at
        block: list[np.ndarray] = []
        rows: list[int] = []
        oriented = {"stored": 0, "upright": 0}
        with closing(_crops(rs, start, opt.faces if opt.faces != "crops" else "dlib", opt.workers)) as crops:
            for crop, why, turned in crops:
                if cancel is not None and cancel.cancelled:
                    raise AffectTraceError(f"import cancelled at row {i}; run it again to resume", part)
                if turned:
                    oriented["stored" if rs.rows[i].method in GEOMETRY_METHODS else "upright"] += 1
                if crop is None:
                    failures[i] = why
                else:
                    block.append(crop)
                    rows.append(i)
                    method[i] = CROP_METHODS.index(rs.rows[i].method)
                i += 1
                if i - start >= BLOCK or i == len(rs.rows):
                    _write(f, rows, block, method[start:i], start)
                    start, block, rows = i, [], []
                    progress(i, len(rs.rows), "crops")
        for k in np.flatnonzero(f["method"][()] == 0):  # rows of an earlier, interrupted run too
            why = failures.get(int(k), "no crop (failed in an earlier run)")
            r = rs.rows[int(k)]
            if why == NO_FACE:
                rs.drop(NO_FACE)
            else:
                problems.append(image_problem(rs, r, why))
        bad = problems[len(rs.problems):]
        if bad and not opt.skip_invalid:
            f.close()
            part.unlink()
            raise InvalidRowsError(bad, rs.root)
        rs.notes += orientation_notes(oriented)
        finish_part(f, part, out, rs.notes, rs.dropped, len(problems))
    finally:
        if f.id.valid:
            f.close()
    ds = ImageDataset(out)
    try:
        summary = ds.summary()
    finally:
        ds.close()
    return ImportReport(out, summary, problems, resumed_at)


def image_problem(rs: RowSet, row: ImageRow, why: str) -> Problem:
    """A row's image problem: at its label file's line where it has one, else at the image itself
    (full paths, as every problem of a database)."""
    if row.line:
        return Problem(rs.root / row.file, row.line, f"image {rs.root / row.path}: {why}")
    return Problem(rs.root / row.path, None, why)


def orientation_notes(oriented: dict[str, int]) -> list[str]:
    """What was done with EXIF orientations (counts of images: 'stored', 'upright')."""
    out = []
    if oriented["stored"]:
        out.append(f"{oriented['stored']} image(s) have an EXIF orientation: used as stored, since the "
                   "database's landmarks and face boxes refer to the stored pixels")
    if oriented["upright"]:
        out.append(f"{oriented['upright']} image(s) have an EXIF orientation: turned upright by it")
    return out


def _write(f: Any, rows: list[int], block: list[np.ndarray], method: np.ndarray, start: int) -> None:
    """Crops of one block (rows in order, failures missing) and its crop methods; then the resume point."""
    if rows and rows[-1] - rows[0] + 1 == len(rows):
        f["crops"][rows[0]:rows[-1] + 1] = np.stack(block)
    else:
        for r, c in zip(rows, block):
            f["crops"][r] = c
    f["method"][start:start + len(method)] = method
    f.attrs["next_row"] = start + len(method)
    f.flush()
