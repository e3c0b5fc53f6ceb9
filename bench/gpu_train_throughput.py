"""Training throughput from an HDF5 face cache, data loading included: the uint8 path (whole batches
gathered from the memory-mapped image cache in loader processes, pinned, moved to the GPU and normalised
and augmented there) against the per-item float path, with and without torch.compile.

    python bench/gpu_train_throughput.py                      # CUDA: the issue 12 figure (>= 10,000 images/s)
    python bench/gpu_train_throughput.py --device cpu --quick  # the same code path on a CPU, in seconds

Generates its own dataset (textured crops with labels drawn into them), runs the real Trainer
(core.nn.trainer) for each case and times its step events after a warm-up. On CUDA it fails loudly (exit 2)
when no GPU is seen, never falling back to the CPU; a case that fails is reported and the others run.
Prints JSON (also to --json-out), then one summary line. Budget: about 6 minutes on an H100-class GPU.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET = 10_000  # images/s, mt-resnet training on an H100-class GPU (issue 12)


def make_dataset(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` 112x112 crops: 64 blurred textures shifted and tinted per image, the expression's cell lit."""
    import cv2

    from core.imagedata.cache import write_arrays

    rng = np.random.default_rng(seed)
    base = np.stack([cv2.GaussianBlur(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8), (7, 7), 2)
                     for _ in range(64)])
    expr = rng.integers(0, 8, n)
    crops = np.empty((n, 112, 112, 3), np.uint8)
    for i in range(n):
        dx, dy = rng.integers(0, 16, 2)
        crops[i] = base[i % 64, dy:dy + 112, dx:dx + 112]
        crops[i, 8:24, 8 + 12 * expr[i]:20 + 12 * expr[i]] = 255
    va = np.clip(np.stack([(expr - 3.5) / 4, rng.uniform(-1, 1, n)], 1), -1, 1).astype(np.float32)
    split = np.where(np.arange(n) < n * 0.95, "train", "val").tolist()
    return write_arrays(path, crops, expr, "affectnet-8", split, va)


def environment(device: str) -> dict:
    import torch

    env = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
           "cpus": os.cpu_count(), "load_average": round(os.getloadavg()[0], 1), "device": device}
    if device.startswith("cuda"):
        env.update(gpu=torch.cuda.get_device_name(0), bf16=torch.cuda.is_bf16_supported(),
                   gpu_memory_gib=round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1))
    try:
        env["dev_shm_gib"] = round(shutil.disk_usage("/dev/shm").total / 2**30, 1)
    except OSError:
        env["dev_shm_gib"] = None
    return env


class Repeated:
    """A dataset seen ``times`` over in one epoch, so a timed run never crosses an epoch end (validation,
    checkpoints): the same cached crops, fetched whole batches at a time."""

    def __init__(self, dataset: object, times: int) -> None:
        self.dataset, self.times = dataset, times

    def __len__(self) -> int:
        return len(self.dataset) * self.times  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> dict:
        return self.dataset[i % len(self.dataset)]  # type: ignore[index, arg-type]

    def get_batch(self, indices: list[int]) -> dict:
        n = len(self.dataset)  # type: ignore[arg-type]
        return self.dataset.get_batch([i % n for i in indices])  # type: ignore[attr-defined]


def run_case(name: str, dataset: Path, run_dir: Path, device: str, preset: str, *, batch: int, steps: int,
             warmup: int, raw: bool, compile_: bool, workers: int) -> dict:
    """One training run of ``steps`` steps; images/s between the first step event after ``warmup`` steps
    and the last one (the trainer reads its losses back at each event, so the clock sees finished work)."""
    import torch

    from core.data.images import ImageFrames
    from core.nn.checkpoint import LabelSpaces
    from core.nn.config import TrainConfig
    from core.nn.trainer import Trainer

    cfg = TrainConfig(preset=preset, tasks=["va", "expr"], epochs=1, batch_size=batch, max_steps_per_epoch=steps,
                      amp="auto", device=device, compile=compile_, num_workers=workers, augment=True, seed=0,
                      lr=1e-4, au_balance=False)
    frames = ImageFrames(dataset, "train", cfg.tasks, raw=raw, augment=not raw)
    labels = LabelSpaces(frames.expressions, ())
    train = Repeated(frames, -(-(steps + 1) * max(batch, 512) // len(frames)) + 1)
    marks: list[tuple[float, int]] = []
    info: dict = {}

    def on_event(ev) -> None:
        if ev.kind == "step":
            marks.append((time.perf_counter(), ev.step))
        elif ev.kind == "start":
            info["start"] = ev.message

    t0 = time.perf_counter()
    res = Trainer(cfg, train, None, labels, run_dir, on_event=on_event).fit()  # type: ignore[arg-type]
    wall = time.perf_counter() - t0
    frames.close()
    if res.status != "finished":
        raise RuntimeError(f"training {res.status}: {res.message}")
    steady = [(t, s) for t, s in marks if s >= warmup]
    if len(steady) < 2:
        raise RuntimeError(f"too few step events after the warm-up ({len(marks)} events, {steps} steps)")
    (ta, sa), (tb, sb) = steady[0], steady[-1]
    out = {"case": name, "images_per_s": round((sb - sa) * cfg.batch_size / (tb - ta)), "batch": cfg.batch_size,
           "steps_timed": sb - sa, "raw_uint8": raw, "compile": compile_, "wall_s": round(wall, 1),
           "trainer": info.get("start", "")}
    if device.startswith("cuda"):
        out["peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
        torch.cuda.reset_peak_memory_stats()
    return out


def loader_only(dataset: Path, batch: int, batches: int, workers: int, pin: bool) -> dict:
    """uint8 batches per second out of the loader processes alone (pinned when ``pin``)."""
    import torch

    from core.data.batches import batch_loader
    from core.data.images import ImageFrames

    frames = ImageFrames(dataset, "train")
    ds = Repeated(frames, -(-(batches + 2) * batch // len(frames)))
    loader = batch_loader(ds, torch.randperm(len(ds)).tolist(), batch, True, workers, pin, prefetch=2)
    it = iter(loader)
    next(it)
    t, n = time.perf_counter(), 0
    for _ in range(batches):
        try:
            n += len(next(it)["image"])
        except StopIteration:
            break
    rate = n / (time.perf_counter() - t)
    del it, loader
    frames.close()
    return {"case": f"loader alone, uint8 batches of {batch}, {workers} workers", "images_per_s": round(rate)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda", help="cuda (default; no fallback) or cpu")
    ap.add_argument("--quick", action="store_true", help="a small dataset and few steps (checks the path)")
    ap.add_argument("--preset", default=None, help="default mt-resnet (mt-tiny with --quick on the CPU)")
    ap.add_argument("--batch", type=int, default=0, help="samples per step (default 0: the trainer's auto)")
    ap.add_argument("--images", type=int, default=None, help="generated crops (default 16000; 256 with --quick)")
    ap.add_argument("--steps", type=int, default=None, help="steps per case (default 160; 6 with --quick)")
    ap.add_argument("--workers", type=int, default=-1, help="loader processes (-1: the trainer's choice)")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile case")
    ap.add_argument("--budget-s", type=float, default=420, help="skip the cases that would start after this")
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args()
    import torch

    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print(f"gpu_train_throughput: FAILED: --device {args.device} but this torch ({torch.__version__}) sees no "
              "CUDA GPU; not falling back to the CPU", file=sys.stderr)
        return 2
    quick = args.quick
    preset = args.preset or ("mt-tiny" if quick and not cuda else "mt-resnet")
    n_images = args.images or (256 if quick else 16_000)
    steps = args.steps or (6 if quick else 160)
    batch = args.batch or (16 if quick and not cuda else 0)
    warmup = 2 if quick else min(40, steps // 4)
    if quick:  # a few short steps: an event at every step, or a fast machine times too few of them
        from core.nn.trainer import Trainer

        Trainer.event_interval_s = 0.0
    started = time.perf_counter()
    report: dict = {"env": environment(args.device), "preset": preset, "images": n_images, "cases": [],
                    "errors": {}, "target_images_per_s": TARGET}
    tmp = Path(tempfile.mkdtemp(prefix="gpu-throughput-"))
    try:
        t = time.perf_counter()
        dataset = make_dataset(tmp / "faces.h5", n_images)
        report["dataset_s"] = round(time.perf_counter() - t, 1)
        old_workers = args.workers if args.workers >= 0 else (min(8, (os.cpu_count() or 2) - 1) if cuda else 0)
        cases = [("uint8 path, eager", dict(raw=True, compile_=False)),
                 ("per-item float path (augmented on CPU workers), eager",
                  dict(raw=False, compile_=False, workers=old_workers))]
        if not args.no_compile and (cuda or not quick):
            cases.insert(1, ("uint8 path, torch.compile", dict(raw=True, compile_=True)))
        if not quick:  # the batch of the earlier H100 figure (2,235 images/s), through the new path
            cases.append(("uint8 path, batch 64, eager", dict(raw=True, compile_=False, batch=64)))
        try:
            report["cases"].append(loader_only(dataset, batch or 512, 8 if quick else 200,
                                               args.workers if args.workers >= 0 else (4 if cuda else 0), cuda))
        except Exception as e:  # noqa: BLE001 - reported; the training cases still run
            report["errors"]["loader alone"] = f"{type(e).__name__}: {e}"
        for k, (name, kw) in enumerate(cases):
            if time.perf_counter() - started > args.budget_s:
                report["errors"][name] = f"skipped: over the {args.budget_s:.0f} s budget"
                continue
            case_steps = steps if kw["raw"] else max(warmup + 10, steps // 3)
            extra = 60 if kw["compile_"] and not quick else 0  # compiling happens in the first steps
            opts = {"workers": args.workers, "batch": batch, **kw}
            try:
                report["cases"].append(run_case(name, dataset, tmp / f"run{k}", args.device, preset,
                                                steps=case_steps + extra, warmup=warmup + extra, **opts))
            except Exception as e:  # noqa: BLE001 - reported, and the other cases still run
                report["errors"][name] = f"{type(e).__name__}: {e}"
                traceback.print_exc(file=sys.stderr)
                if "DataLoader worker" in str(e) and opts["workers"] != 0:  # e.g. a small /dev/shm
                    cases.append((f"{name}, 0 loader workers (after: {str(e)[:80]})", {**kw, "workers": 0}))
            print(json.dumps(report["cases"][-1] if report["cases"] else {}), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    trained = [c for c in report["cases"] if "raw_uint8" in c]
    best = max((c for c in trained if c["raw_uint8"]), key=lambda c: c["images_per_s"], default=None)
    report["best_uint8_images_per_s"] = best["images_per_s"] if best else None
    report["target_met"] = bool(cuda and best and best["images_per_s"] >= TARGET)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text)
    env = report["env"]
    where = env.get("gpu") or f"{platform.machine()} CPU"
    parts = ", ".join(f"{c['case']}: {c['images_per_s']}" for c in report["cases"])
    print(f"bench/gpu_train_throughput: {preset} on {where}: {parts} images/s; best uint8 "
          f"{report['best_uint8_images_per_s']} vs target {TARGET} ({'met' if report['target_met'] else 'NOT met'})"
          + (f"; errors: {'; '.join(report['errors'])}" if report["errors"] else ""))
    main_case = "uint8 path, eager"
    return 1 if main_case in report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
