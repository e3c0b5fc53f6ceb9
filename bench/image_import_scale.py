"""AffectNet at its real size: the re-packaged layout (train_set/ and val_set/, images/N.jpg and four
annotations/N_*.npy per image) with N images, imported by ``import-images affectnet``.

    python bench/image_import_scale.py [--images 290000] [--distinct 64] [--workers 0] [--keep DIR]

The tree is generated once: ``--distinct`` drawn faces (tests/imagedbgen.py) whose files are hard-linked
under every other number, so 290,000 images take a few MB and seconds. Times the whole import (reading
every annotation, cropping, writing) and, with --time-reading, reading the rows alone; peak memory of
this process. Prints JSON, then one summary line.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.imagedata import ImageDataset, ImportOptions, import_images  # noqa: E402
from core.imagedata.affectnet import read_affectnet  # noqa: E402
from tests import imagedbgen as gen  # noqa: E402

KINDS = ("exp", "val", "aro", "lnd")


def make_tree(root: Path, images: int, distinct: int) -> None:
    """``images`` rows in train_set (90 %) and val_set (10 %), hard links to ``distinct`` generated ones."""
    seed = root / "seed"
    gen.affectnet_repackaged(seed, {"train": max(1, distinct // 8), "val": 0})
    src = seed / "train_set"
    n_seed = len(list((src / "images").glob("*.jpg")))
    n_val = images // 10
    for folder, first, count in (("train_set", 0, images - n_val), ("val_set", images - n_val, n_val)):
        (root / folder / "images").mkdir(parents=True, exist_ok=True)
        (root / folder / "annotations").mkdir(parents=True, exist_ok=True)
        for i in range(first, first + count):
            k = i % n_seed
            os.link(src / "images" / f"{k}.jpg", root / folder / "images" / f"{i}.jpg")
            for kind in KINDS:
                os.link(src / "annotations" / f"{k}_{kind}.npy", root / folder / "annotations" / f"{i}_{kind}.npy")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=290_000)
    ap.add_argument("--distinct", type=int, default=64)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="build (or reuse) the tree here")
    ap.add_argument("--time-reading", action="store_true", help="also time reading the rows alone (once more)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="affectnet-scale-") as tmp:
        root = (args.keep or Path(tmp)) / f"affectnet-{args.images}"
        t0 = time.perf_counter()
        if not root.exists():
            make_tree(root, args.images, args.distinct)
        t_tree = time.perf_counter() - t0
        t_read: float | None = None
        if args.time_reading:
            t0 = time.perf_counter()
            read_affectnet(root)
            t_read = time.perf_counter() - t0
        out = Path(tmp) / "affectnet.h5"
        t0 = time.perf_counter()
        rep = import_images("affectnet", root, out, ImportOptions(workers=args.workers))
        t_import = time.perf_counter() - t0
        with ImageDataset(out) as ds:
            crops, rows = len(ds.rows()), len(ds)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = {"images": args.images, "rows": rows, "crops": crops, "problems": len(rep.problems),
                  "workers": args.workers, "tree_s": round(t_tree, 1),
                  "read_s": None if t_read is None else round(t_read, 1),
                  "import_s": round(t_import, 1), "images_per_s": round(crops / t_import, 1),
                  "peak_rss_mib": round(peak), "dataset_mib": round(out.stat().st_size / 2**20),
                  "cpus": os.cpu_count(), "load": round(os.getloadavg()[0], 1), "machine": platform.node()}
    print(json.dumps(result, indent=2))
    print(f"re-packaged AffectNet, {args.images:,} images: {crops:,} crops in {t_import:.0f} s "
          f"({result['images_per_s']}/s, {args.workers} workers, rows and crops), "
          f"peak {result['peak_rss_mib']} MiB")
    return 0 if crops == rows == args.images else 1


if __name__ == "__main__":
    sys.exit(main())
