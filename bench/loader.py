"""Data loader benchmark: images per second delivered by core.data alone (no model).

    python bench/loader.py [--videos 4] [--frames 1500] [--batch 64] [--batches 30] [--workers 0,2] [--threads 1]

Builds a temporary project (videos without media: face caches written directly, with crops cut from
../shared/data/single_face.mp4 when present, else textured noise) with a label track for every task,
and an image dataset cache (core.imagedata) of the same crops, then times, in the same run:
- the per-item float path (today's): DataLoaders over FaceFrames / FaceWindows, preloaded crops vs
  reading the HDF5 cache per item, with and without augmentation;
- the uint8 path: whole batches of uint8 crops gathered from the memory-mapped image cache (and from the
  project's caches), what the trainer moves to the GPU and normalises and augments there; plus the same
  with that device work done on this CPU (what a CPU-only run pays).
for each worker count. ``--threads 1`` (default) keeps torch on one thread, so 0-worker figures are per
core. Prints JSON, then one summary line with the uint8 / per-item ratio per core (issue 12: >= 3x).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.faces import FaceCacheWriter  # noqa: E402
from core.faces.backends.base import Face  # noqa: E402
from core.tracks import TrackSource  # noqa: E402

SHARED = Path(os.environ.get("AFFECTTRACE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def source_crops(n: int = 64) -> np.ndarray:
    """Real aligned crops when the shared media are here (so compression is realistic), else noise."""
    clip = SHARED / "single_face.mp4"
    if clip.exists():
        from core.faces import FaceCache, make_backend, process_video

        with tempfile.TemporaryDirectory() as d:
            process_video(clip, Path(d) / "c.h5", make_backend("dlib"))
            with FaceCache(Path(d) / "c.h5") as c:
                crops = c.all_crops()
        return crops[np.arange(n) % len(crops)]
    import cv2

    rng = np.random.default_rng(0)
    return np.stack([cv2.GaussianBlur(rng.integers(0, 256, (112, 112, 3), dtype=np.uint8), (7, 7), 2)
                     for _ in range(n)])


def build_project(folder: Path, videos: int, frames: int):
    from core.project import Project

    crops = source_crops()
    p = Project.create(folder, au_set="affwild2-12")
    rng = np.random.default_rng(0)
    lm = np.zeros((68, 2), np.float32)
    for v in range(videos):
        name = f"v{v:03d}"
        p.add_video(folder / f"{name}.mp4", name=name, frame_count=frames, fps=30,
                    split="train" if v < videos - 1 else "val")
        with FaceCacheWriter(p.cache_dir("faces") / f"{name}.h5", frames, "bench") as w:
            for i in range(frames):
                w.add(i, Face(np.zeros(4, np.float32), lm, 1.0), crops[(i + v) % len(crops)])
            w.finish()
        t = p.new_track(name, "ann1", TrackSource.human("ann1"))
        t.va[:] = rng.uniform(-1, 1, (frames, 2))
        t.expr[:] = rng.integers(0, 8, frames)
        t.au[:] = rng.integers(0, 2, t.au.shape)
        p.put_track(t)
    p.save()
    return p


def images_per_second(loader, batches: int, prepare=None) -> float:
    it = iter(loader)
    first = next(it)  # worker start-up and the first batch are not steady state
    n, t = 0, time.perf_counter()
    for _ in range(batches):
        try:
            b = next(it)
        except StopIteration:
            it = iter(loader)
            b = next(it)
        img = b["image"] if prepare is None else prepare(b["image"])
        n += img.shape[0] * (img.shape[1] if img.dim() == 5 else 1)
    del first
    return n / (time.perf_counter() - t)


def build_image_cache(path: Path, p, videos: int, frames: int) -> Path:
    """The project's crops and expression labels as one image dataset cache."""
    from core.imagedata.cache import write_arrays

    crops, expr, split = [], [], []
    for v in list(p.videos)[:videos]:
        from core.faces import FaceCache

        with FaceCache(p.cache_dir("faces") / f"{v}.h5") as c:
            crops.append(c.all_crops())
        expr.append(p.track(v, "ann1").expr.astype(np.int64))
        split += [p.videos[v].split or "train"] * frames
    return write_arrays(path, np.concatenate(crops), np.concatenate(expr), "affwild2", split)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--videos", type=int, default=4)
    ap.add_argument("--frames", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--workers", default="0,2")
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: per-core figures; 0: torch's default)")
    args = ap.parse_args()
    import torch

    from core.data import Augment, FaceFrames, FaceWindows, make_loader
    from core.data.augment import prepare_images
    from core.data.batches import batch_loader
    from core.data.images import ImageFrames

    if args.threads:
        torch.set_num_threads(args.threads)

    workers = [int(w) for w in args.workers.split(",")]
    out: dict = {"machine": f"{platform.machine()} {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
                 "torch_threads": torch.get_num_threads(), "batch": args.batch, "images_per_s": {}}
    with tempfile.TemporaryDirectory() as d:
        p = build_project(Path(d) / "proj", args.videos, args.frames)
        try:
            cases = [("frames", dict(preload=True, augment=False)),
                     ("frames+augment", dict(preload=True, augment=True)),
                     ("frames from h5", dict(preload=False, augment=False)),
                     (f"windows T={args.window}", dict(preload=True, augment=False, window=args.window))]
            for name, kw in cases:
                window = kw.pop("window", 1)
                ds = FaceWindows(p, "ann1", "train", length=window, **kw) if window > 1 \
                    else FaceFrames(p, "ann1", "train", **kw)
                for w in workers:
                    bs = max(1, args.batch // window)
                    loader = make_loader(ds, batch_size=bs, shuffle=True, workers=w)
                    out["images_per_s"][f"{name}, {w} workers"] = round(images_per_second(loader, args.batches))
                    del loader
                ds.close()
            cache = build_image_cache(Path(d) / "images.h5", p, args.videos - 1, args.frames)
            aug = Augment()
            uint8 = [("uint8 batches, image cache", ImageFrames(cache, "train"), None),
                     ("uint8 batches + device work on this CPU", ImageFrames(cache, "train"),
                      lambda x: prepare_images(x, aug)),
                     ("uint8 batches, project caches", FaceFrames(p, "ann1", "train", raw=True, preload=True), None)]
            for name, ds, prepare in uint8:
                for w in workers:
                    order = torch.randperm(len(ds), generator=torch.Generator().manual_seed(0)).tolist()
                    loader = batch_loader(ds, order, args.batch, drop_last=True, workers=w)
                    out["images_per_s"][f"{name}, {w} workers"] = round(images_per_second(loader, args.batches,
                                                                                          prepare))
                    del loader
                ds.close()
        finally:
            p.close()
    ips = out["images_per_s"]
    out["uint8_vs_per_item_per_core"] = round(
        ips["uint8 batches, image cache, 0 workers"] / ips["frames, 0 workers"], 1)
    print(json.dumps(out, indent=2))
    best = max(ips.items(), key=lambda kv: kv[1])
    print(f"bench/loader: per-item float {ips['frames, 0 workers']}, uint8 batches "
          f"{ips['uint8 batches, image cache, 0 workers']} images/s at 0 workers ({out['uint8_vs_per_item_per_core']}x "
          "per core; with the augmentation done on this CPU "
          f"{ips['uint8 batches + device work on this CPU, 0 workers']}"
          f" vs {ips['frames+augment, 0 workers']}); best {best[1]} ({best[0]}) [{out['machine']}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
