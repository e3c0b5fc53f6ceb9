"""Data loader benchmark: images per second delivered by core.data alone (no model).

    python bench/loader.py [--videos 4] [--frames 1500] [--batch 64] [--batches 30] [--workers 0,2]

Builds a temporary project (videos without media: face caches written directly, with crops cut from
../shared/data/single_face.mp4 when present, else textured noise) with a label track for every task,
then times iterating DataLoaders over FaceFrames / FaceWindows: preloaded crops vs reading the HDF5
cache per item, with and without augmentation, for each worker count. Issue 5 asks the loader to
deliver at least 5x the training step rate (compare with bench/engine.py's images/s).
Prints JSON, then one summary line.
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
        from core.faces import make_backend, process_video, FaceCache

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


def images_per_second(loader, batches: int) -> float:
    it = iter(loader)
    first = next(it)  # worker start-up and the first batch are not steady state
    n, t = 0, time.perf_counter()
    for _ in range(batches):
        try:
            b = next(it)
        except StopIteration:
            it = iter(loader)
            b = next(it)
        img = b["image"]
        n += img.shape[0] * (img.shape[1] if img.dim() == 5 else 1)
    del first
    return n / (time.perf_counter() - t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--videos", type=int, default=4)
    ap.add_argument("--frames", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--workers", default="0,2")
    ap.add_argument("--window", type=int, default=8)
    args = ap.parse_args()
    import torch

    from core.data import FaceFrames, FaceWindows, make_loader

    workers = [int(w) for w in args.workers.split(",")]
    out: dict = {"machine": f"{platform.machine()} {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
                 "torch_threads": torch.get_num_threads(), "batch": args.batch, "images_per_s": {}}
    with tempfile.TemporaryDirectory() as d:
        p = build_project(Path(d) / "proj", args.videos, args.frames)
        try:
            cases = [("frames", dict(preload=True, augment=False)), ("frames+augment", dict(preload=True, augment=True)),
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
        finally:
            p.close()
    print(json.dumps(out, indent=2))
    best = max(out["images_per_s"].items(), key=lambda kv: kv[1])
    plain = {k: v for k, v in out["images_per_s"].items() if k.startswith("frames,")}
    print(f"bench/loader: {', '.join(f'{k}: {v}' for k, v in plain.items())} images/s; best {best[1]} ({best[0]}) "
          f"[{out['machine']}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
