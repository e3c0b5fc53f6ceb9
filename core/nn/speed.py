"""Training and inference throughput of a preset on a device, measured on generated batches with the
trainer's own step (MultiTaskLoss, AdamW, gradient clipping, AMP), and a per-device cache of the
training figure for the app's train dialog (`affecttrace models --measure`).

The figures are model compute alone; data loading is measured by bench/loader.py.
"""
from __future__ import annotations

import json
import platform
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch

from ..errors import AffectTraceError
from ..fsio import atomic_write_bytes
from ..labels import EXPRESSIONS
from ..userdirs import user_cache_dir
from .config import TrainConfig
from .losses import MultiTaskLoss
from .presets import build_model, get_preset
from .schedule import make_optimizer
from .validate import forward

N_AU = 12
CACHE_VERSION = 1


def synthetic_batch(preset: str, b: int, device: torch.device, channels_last: bool,
                    n_au: int = N_AU) -> dict[str, torch.Tensor]:
    p = get_preset(preset)
    lead = (b, p.window) if p.temporal else (b,)
    img = torch.randn(*lead, 3, 112, 112, device=device)
    if channels_last and img.dim() == 4:
        img = img.contiguous(memory_format=torch.channels_last)
    out = {"image": img, "va": torch.rand(*lead, 2, device=device) * 2 - 1,
           "va_mask": torch.ones(lead, dtype=torch.bool, device=device),
           "expr": torch.randint(0, len(EXPRESSIONS), lead, device=device),
           "expr_mask": torch.ones(lead, dtype=torch.bool, device=device),
           "au": (torch.rand(*lead, n_au, device=device) > 0.5).float(),
           "au_mask": torch.ones(lead, dtype=torch.bool, device=device)}
    if p.audio:
        out["audio"] = torch.randn(*lead, 1, 64, 64, device=device)
    return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_preset(preset: str, device: torch.device, batch: int, steps: int, warmup: int, amp: str,
                   channels_last: bool, inference: bool = True, min_s: float = 0.0) -> dict[str, Any]:
    """Images/s of ``steps`` training steps (and forward passes) after ``warmup`` untimed ones; more
    steps while less than ``min_s`` seconds have passed."""
    p = get_preset(preset)
    torch.manual_seed(0)
    model = build_model(preset, len(EXPRESSIONS), N_AU).to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks it
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
    autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else nullcontext
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    cfg = TrainConfig(preset=preset)
    opt = make_optimizer(model, cfg)
    loss_fn = MultiTaskLoss(("va", "expr", "au"))
    data = synthetic_batch(preset, batch, device, channels_last)
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

    def infer_step() -> None:
        with torch.no_grad(), autocast():
            forward(model, data)

    model.train()
    done, train_s = _timed(train_step, steps, warmup, device, min_s)
    res: dict[str, Any] = {"preset": preset, "parameters": sum(x.numel() for x in model.parameters()),
                           "batch": batch, "frames_per_batch": frames, "steps": done,
                           "train_images_per_s": round(frames * done / train_s, 1), "amp": amp,
                           "channels_last": channels_last}
    if inference:
        model.eval()
        done, infer_s = _timed(infer_step, steps, warmup, device, min_s)
        res["infer_images_per_s"] = round(frames * done / infer_s, 1)
    if device.type == "cuda":
        res["max_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
        torch.cuda.reset_peak_memory_stats(device)
    return res


def _timed(step: Any, steps: int, warmup: int, device: torch.device, min_s: float = 0.0) -> tuple[int, float]:
    """(steps run, seconds) after the warm-up."""
    for _ in range(warmup):
        step()
    sync(device)
    t, done = time.perf_counter(), 0
    while done < steps or time.perf_counter() - t < min_s:
        step()
        done += 1
        if min_s and done % 4 == 0:
            sync(device)
    sync(device)
    return done, time.perf_counter() - t


# ---------------------------------------------------------------- per-device cache for the train dialog
def device_key(device: torch.device) -> str:
    """Names the hardware a figure holds for: the GPU model, or the CPU with its thread count."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    return f"cpu:{cpu}:{torch.get_num_threads()}threads"


def cache_path() -> Path:
    return user_cache_dir() / "speed.json"


def cached_rates(device: torch.device) -> dict[str, float]:
    """{preset: training images/s} measured before on this device (torch version included in the key)."""
    try:
        data = json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    entry = data.get("devices", {}).get(f"{device_key(device)}|torch {torch.__version__}", {})
    return {k: float(v) for k, v in entry.items() if isinstance(v, (int, float))}


def remember_rate(device: torch.device, preset: str, images_per_s: float) -> None:
    path = cache_path()
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            raise ValueError
    except (OSError, ValueError):
        data = {"version": CACHE_VERSION, "devices": {}}
    key = f"{device_key(device)}|torch {torch.__version__}"
    data.setdefault("devices", {}).setdefault(key, {})[preset] = round(float(images_per_s), 1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(data, indent=1).encode(), error=AffectTraceError)
    except (OSError, AffectTraceError):  # a cache: a full or read-only disk only costs the next probe
        pass


def probe(preset: str, device: torch.device) -> float:
    """A short training-speed probe for the train dialog (batch 16 CPU / 64 CUDA); cached per device."""
    cuda = device.type == "cuda"
    res = measure_preset(preset, device, 64 if cuda else 16, 2, 2 if cuda else 1, "bf16" if cuda else "none",
                         cuda, inference=False, min_s=1.5)
    remember_rate(device, preset, res["train_images_per_s"])
    return float(res["train_images_per_s"])
