"""`affecttrace import-images` (a still-image database -> one face-crop dataset cache) and
`affecttrace evaluate-images` (a checkpoint scored on a dataset as the papers report it); `predict` on a
folder of images comes here too (``predict_images``). import-images needs no torch."""
from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import AffectTraceError
from ..words import DEVICE_HELP
from . import options as opt
from .reporting import add_events_flag, progress, report

LAYOUTS = """databases (DATABASE ROOT):
  affectnet ROOT        Manually_Annotated_file_lists/{training,validation}.csv + Manually_Annotated_Images/,
                        or the re-packaged train_set/ and val_set/ (images/N.jpg, annotations/N_exp.npy ...)
  rafdb ROOT            EmoLabel/list_patition_label.txt + Image/aligned/ (or Image/original/ + Annotation/manual/)
  folders ROOT          ROOT/<class>/*.jpg or ROOT/<split>/<class>/*.jpg
  csv FILE.csv          path, expression and/or valence,arousal and/or AU<n> columns (+ split)
expression spaces: affwild2, affwild2-7, affectnet-8, affectnet-7, rafdb-7 (core.labels maps them onto each other)
images: JPEG, PNG, BMP or WebP, read strictly (a truncated or damaged file is an invalid row, never half decoded);
  over MP_LIMIT megapixels is refused before decoding; EXIF orientation is ignored where the database's landmarks or
  boxes place the face (they refer to the stored pixels) and applied to given crops and detected faces"""


def register(sub: Any) -> None:
    from ..imagedata import DATABASES
    from ..imagedata.decode import MAX_PIXELS

    p = sub.add_parser("import-images", help="read a still-image database into a face-crop dataset",
                       description="Read AffectNet, RAF-DB, class folders or an image CSV; align every face as "
                       "videos are (5-point template) or take the database's aligned crops; write OUT.h5 with "
                       "uint8 112x112 crops, labels, splits and the label mapping. Invalid rows abort (each "
                       "named with file and line) unless --skip-invalid; an interrupted import resumes.",
                       epilog=LAYOUTS.replace("MP_LIMIT", str(MAX_PIXELS // 1_000_000)),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("database", choices=DATABASES)
    p.add_argument("root", metavar="ROOT")
    p.add_argument("out", metavar="OUT.h5")
    p.add_argument("--expr-space", default=None, help="affectnet: affectnet-8 (default) or affectnet-7; folders/csv: "
                   "the space of the class names (default: the smallest that holds them)")
    p.add_argument("--label-map", default=None, metavar="MAP", help="folders/csv: name=Class pairs, e.g. "
                   "'joy=Happiness,mad=Anger'")
    p.add_argument("--faces", default="crops", help="folders/csv: 'crops' (the images are face crops) or a face "
                   "backend (dlib, fan, auto) that finds and aligns each face")
    p.add_argument("--crops", choices=("auto", "aligned", "original"), default="auto",
                   help="rafdb: the database's aligned crops, or the original images aligned by their manual points")
    p.add_argument("--val", type=opt.share, default=0.1, help="folders/csv without splits: share drawn for 'val'")
    p.add_argument("--seed", type=opt.seed, default=0)
    p.add_argument("--skip-invalid", action="store_true", help="leave invalid rows out and import the rest")
    opt.add_force(p, "replace an existing OUT that is not an image dataset (HDF5)")
    p.add_argument("--workers", type=opt.count, default=0, help="processes making crops (default 0: this one)")
    p.add_argument("--json", action="store_true", help="print the dataset summary as JSON")
    add_events_flag(p)
    p.set_defaults(func=run_import)

    e = sub.add_parser("evaluate-images", help="score a checkpoint on an image dataset (accuracy, mean class "
                       "accuracy, macro-F1, confusion; VA CCC/RMSE/SAGR)",
                       description="Run a single-frame checkpoint over a split of an image dataset "
                       "(`affecttrace import-images`). A model of another label space is mapped through the one "
                       "table of core.labels; a dataset class it has no counterpart for is never predicted (said).")
    e.add_argument("dataset", metavar="DATASET.h5")
    e.add_argument("--checkpoint", required=True, metavar="C", help="checkpoint file or run folder (its best.pt)")
    e.add_argument("--split", default=None, help="split to score (default val, else test)")
    e.add_argument("--device", default="auto", help=DEVICE_HELP)
    e.add_argument("--batch-size", type=opt.positive, default=128)
    e.add_argument("--json", action="store_true", help="print the full result as JSON")
    add_events_flag(e)
    e.set_defaults(func=run_evaluate)


def run_import(args: argparse.Namespace) -> int:
    from ..imagedata import ImportOptions, InvalidRowsError, import_images
    from ..safepaths import check_output

    check_output(args.out, (args.root,), "HDF5", args.force)
    options = ImportOptions(args.expr_space, args.label_map, args.faces, args.crops, args.val, args.seed,
                            args.skip_invalid, args.workers)
    try:
        rep = import_images(args.database, args.root, args.out, options, progress(args, "import-images"))
    except InvalidRowsError as e:  # every bad row, one line each, so that all are fixed in one pass
        for prob in e.problems if len(e.problems) > 1 else ():  # one: the error line names it
            print(str(prob), file=sys.stderr)
        raise
    except Exception as e:  # HDF5 says a full disk in several ways (OSError, RuntimeError)
        _full_disk(Path(args.out), e)
        raise
    result = {**rep.summary, "problems": [str(p) for p in rep.problems]}
    report(args, result, rep.lines())
    return 0


def _full_disk(out: Path, e: BaseException) -> None:
    """A full disk while importing, whatever HDF5 said: one line naming OUT, and no half-written part file
    left to fill the disk further (the import starts over when there is room)."""
    from ..fsio import disk_problem, remove_quietly

    problem = disk_problem(out, e)
    if problem == os.strerror(errno.ENOSPC):
        remove_quietly(out.with_name(out.name + ".part"))
        raise AffectTraceError(f"cannot write: {problem} (nothing was kept)", out) from None


def _checkpoint(spec: str) -> Path:
    from .predict_cmd import resolve_checkpoint

    return resolve_checkpoint(spec, None)


def _fmt(v: Any) -> str:
    return "n/a" if v is None or v != v else f"{v:.4f}" if isinstance(v, float) else str(v)


def run_evaluate(args: argparse.Namespace) -> int:
    from ..nn.imageeval import evaluate_images

    res = evaluate_images(_checkpoint(args.checkpoint), args.dataset, args.split, args.device, args.batch_size)
    lines = [f"{res['dataset']} ({res['database']}), split {res['split']}: {res['images']} images"]
    ex = res.get("expr")
    if ex:
        lines.append(f"expression ({len(ex['classes'])} classes, {ex['images']} images): accuracy "
                     f"{_fmt(ex['accuracy'])}, mean class accuracy {_fmt(ex['mean_class_accuracy'])}, macro-F1 "
                     f"{_fmt(ex['macro_f1'])}")
        if ex["mapping"]:
            lines.append(f"  {ex['mapping']}")
        width = max(len(c) for c in ex["classes"])
        lines.append("  confusion (rows: reference, columns: prediction)")
        lines.append("  " + " " * width + " " + " ".join(f"{c[:5]:>5s}" for c in ex["classes"]) + "    acc")
        for c, row in zip(ex["classes"], ex["confusion"]):
            lines.append(f"  {c:>{width}s} " + " ".join(f"{v:5d}" for v in row)
                         + f"  {_fmt(ex['per_class_accuracy'][c])}")
    va = res.get("va")
    if va:
        lines.append(f"valence-arousal ({va['frames']} images): " + ", ".join(
            f"{k} {_fmt(va[k])}" for k in ("ccc_valence", "ccc_arousal", "rmse_valence", "rmse_arousal",
                                             "sagr_valence", "sagr_arousal")))
    au = res.get("au")
    if au:
        lines.append(f"action units ({au['frames']} images): mean F1 {_fmt(au['f1'])}, accuracy {_fmt(au['accuracy'])}")
    if not (ex or va or au):
        raise AffectTraceError("the checkpoint predicts no task the dataset has labels for", Path(args.dataset))
    report(args, _finite(res), lines)
    return 0


def _finite(x: Any) -> Any:
    """NaN -> None, for JSON."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return None if isinstance(x, float) and x != x else x


def is_image_folder(path: Path) -> bool:
    """A folder that is not a project and holds images (what `predict` runs on as still images)."""
    from ..imagedata.classfolders import IMAGE_SUFFIXES

    if not path.is_dir() or (path / "project.json").exists():
        return False
    return any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.rglob("*") if p.is_file())


def predict_images(args: argparse.Namespace, folder: Path) -> int:
    """`predict FOLDER --checkpoint C`: one CSV row per image with the class probabilities."""
    from ..fsio import atomic_write_bytes
    from ..nn.imageeval import predict_folder
    from .predict_cmd import output_path

    ckpt = _checkpoint(args.checkpoint)
    out = output_path(args, folder.with_name(folder.name + ".csv"), folder, ckpt)
    table = predict_folder(ckpt, folder, args.backend, args.device, args.batch_size)
    atomic_write_bytes(out, table.to_csv(index=False).encode("utf-8"), error=AffectTraceError)
    faces_found = int(table["face"].sum())
    report(args, {"folder": str(folder), "csv": str(out), "images": len(table), "faces": faces_found},
           f"{folder}: {faces_found}/{len(table)} images with a face predicted -> {out}")
    return 0
