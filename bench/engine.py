"""Training and inference throughput (images/s) of the model presets, on the CPU or a CUDA GPU.

    python bench/engine.py [--device cpu|cuda] [--presets mt-tiny,mt-resnet|all|light] [--json-out FILE]

Each preset runs the trainer's own step (MultiTaskLoss, AdamW, grad clipping; on CUDA AMP bf16 and
channels_last by default) on generated 112x112 batches, so the numbers are model compute alone;
data loading is measured by the loader benchmark. CNN-RNN presets count every frame of a window.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from core.labels import EXPRESSIONS  # noqa: E402
from core.nn.config import TrainConfig  # noqa: E402
from core.nn.losses import MultiTaskLoss  # noqa: E402
from core.nn.presets import PRESETS, build_model, get_preset  # noqa: E402
from core.nn.schedule import make_optimizer  # noqa: E402
from core.nn.validate import forward  # noqa: E402

N_AU = 12


def batch_for(preset: str, b: int, device: torch.device, channels_last: bool) -> dict[str, torch.Tensor]:
    p = get_preset(preset)
    lead = (b, p.window) if p.temporal else (b,)
    img = torch.randn(*lead, 3, 112, 112, device=device)
    if channels_last and img.dim() == 4:
        img = img.contiguous(memory_format=torch.channels_last)
    out = {"image": img, "va": torch.rand(*lead, 2, device=device) * 2 - 1,
           "va_mask": torch.ones(lead, dtype=torch.bool, device=device),
           "expr": torch.randint(0, len(EXPRESSIONS), lead, device=device),
           "expr_mask": torch.ones(lead, dtype=torch.bool, device=device),
           "au": (torch.rand(*lead, N_AU, device=device) > 0.5).float(),
           "au_mask": torch.ones(lead, dtype=torch.bool, device=device)}
    if p.audio:
        out["audio"] = torch.randn(*lead, 1, 64, 64, device=device)
    return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_preset(preset: str, device: torch.device, batch: int, steps: int, warmup: int, amp: str,
                 channels_last: bool) -> dict:
    p = get_preset(preset)
    torch.manual_seed(0)
    model = build_model(preset, len(EXPRESSIONS), N_AU).to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
    autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else nullcontext
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    cfg = TrainConfig(preset=preset)
    opt = make_optimizer(model, cfg)
    loss_fn = MultiTaskLoss(("va", "expr", "au"))
    data = batch_for(preset, batch, device, channels_last)
    frames = batch * (p.window if p.temporal else 1)

    def train_step() -> None:
        with autocast():
            total, _ = loss_fn(forward(model, data, train_arcface=p.arcface), data)
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(total).backward()
            scaler.unscale_(opt)
        else:
            total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()

    model.train()
    for _ in range(warmup):
        train_step()
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        train_step()
    sync(device)
    train_s = time.perf_counter() - t
    model.eval()
    with torch.no_grad():
        for _ in range(warmup):
            with autocast():
                forward(model, data)
        sync(device)
        t = time.perf_counter()
        for _ in range(steps):
            with autocast():
                forward(model, data)
        sync(device)
    infer_s = time.perf_counter() - t
    res = {"preset": preset, "parameters": sum(x.numel() for x in model.parameters()), "batch": batch,
           "frames_per_batch": frames, "steps": steps, "train_images_per_s": round(frames * steps / train_s, 1),
           "infer_images_per_s": round(frames * steps / infer_s, 1), "amp": amp, "channels_last": channels_last}
    if device.type == "cuda":
        res["max_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
        torch.cuda.reset_peak_memory_stats(device)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    ap.add_argument("--presets", default=None,
                    help="comma list, 'all' or 'light' (default: light on the CPU, all on CUDA)")
    ap.add_argument("--batch-size", type=int, default=None, help="default 16 on the CPU, 64 on CUDA")
    ap.add_argument("--steps", type=int, default=None, help="timed steps per preset (default 3 CPU, 30 CUDA)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 1 CPU, 5 CUDA)")
    ap.add_argument("--amp", choices=("bf16", "fp16", "none"), default=None, help="default bf16 on CUDA, none on CPU")
    ap.add_argument("--no-channels-last", action="store_true")
    ap.add_argument("--machine", default=platform.node(), help="free text naming the machine for the record")
    ap.add_argument("--json-out", default=None, metavar="FILE")
    args = ap.parse_args(argv)

    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        print("bench/engine.py: no CUDA device visible to this PyTorch", file=sys.stderr)
        return 2
    if cuda:
        torch.backends.cudnn.benchmark = True
    spec = args.presets or ("all" if cuda else "light")
    names = (list(PRESETS) if spec == "all" else [n for n, p in PRESETS.items() if p.cpu] if spec == "light"
             else [s.strip() for s in spec.split(",") if s.strip()])
    amp = args.amp or ("bf16" if cuda else "none")
    channels_last = cuda and not args.no_channels_last
    batch = args.batch_size or (64 if cuda else 16)
    steps = args.steps or (30 if cuda else 3)
    warmup = args.warmup if args.warmup is not None else (5 if cuda else 1)
    record = {"machine": args.machine, "device": str(device), "torch": torch.__version__,
              "threads": torch.get_num_threads(), "gpu": torch.cuda.get_device_name(device) if cuda else None,
              "results": []}
    print(f"{'preset':<18} {'params':>11} {'batch':>5} {'train img/s':>12} {'infer img/s':>12}")
    for name in names:
        r = bench_preset(name, device, batch, steps, warmup, amp, channels_last)
        record["results"].append(r)
        print(f"{name:<18} {r['parameters']:>11,} {r['frames_per_batch']:>5} {r['train_images_per_s']:>12.1f} "
              f"{r['infer_images_per_s']:>12.1f}", flush=True)
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
