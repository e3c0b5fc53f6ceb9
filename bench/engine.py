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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from core.nn.presets import PRESETS  # noqa: E402
from core.nn.speed import measure_preset  # noqa: E402


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
        r = measure_preset(name, device, batch, steps, warmup, amp, channels_last)
        record["results"].append(r)
        print(f"{name:<18} {r['parameters']:>11,} {r['frames_per_batch']:>5} {r['train_images_per_s']:>12.1f} "
              f"{r['infer_images_per_s']:>12.1f}", flush=True)
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
