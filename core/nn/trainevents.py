"""What a training run reports while it runs (for the CLI bar and the GUI) and its metric history CSV."""
from __future__ import annotations

import csv
import math
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import AffectTraceError
from ..fsio import atomic_write_with
from ..progress import Progress


@dataclass
class TrainEvent:
    """kind: 'start' | 'step' | 'epoch' | 'end'. ``status`` on 'end': finished, cancelled, early-stopped, diverged."""

    kind: str
    epoch: int = 0  # 1-based epoch in progress / finished
    epochs: int = 0
    step: int = 0  # global optimiser steps done
    total_steps: int = 0
    losses: dict[str, float] = field(default_factory=dict)  # 'total' and one per task
    lr: float = 0.0
    images_per_s: float = 0.0
    eta_s: float = float("nan")
    metrics: dict[str, float] = field(default_factory=dict)  # 'epoch' events: validation scores
    status: str = ""
    message: str = ""
    device: str = ""  # 'start' and 'step' events
    memory_mb: float = float("nan")  # 'step': RSS on the CPU, peak allocated on CUDA
    details: dict[str, Any] = field(default_factory=dict)  # 'epoch': confusion matrix, per-class/AU F1
    info: dict[str, Any] = field(default_factory=dict)  # 'start': run_dir, train/val samples, resumed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """Short text for a progress bar postfix."""
        parts = [f"ep {self.epoch}/{self.epochs}"]
        if "total" in self.losses:
            parts.append("loss " + " ".join(f"{k}={v:.3f}" for k, v in self.losses.items()))
        if self.images_per_s:
            parts.append(f"{self.images_per_s:.0f} img/s")
        if self.metrics:
            parts.append(" ".join(f"{k}={v:.3f}" for k, v in self.metrics.items()
                                  if k in ("val_va", "val_expr", "val_au")))
        return ", ".join(p for p in parts if p)


def memory_mb(device: Any) -> float:
    """Memory in MiB for the step events: CUDA peak allocated on ``device``, else this process's RSS."""
    if getattr(device, "type", "cpu") == "cuda":
        import torch

        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource  # not Linux: the peak, in KiB (bytes on macOS)
    except ImportError:
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def progress_listener(progress: Progress) -> Callable[[TrainEvent], None]:
    """Adapt TrainEvents to a ``core.progress`` Progress (e.g. ``core.progress.bar``)."""
    def on_event(ev: TrainEvent) -> None:
        if ev.kind in ("step", "epoch"):
            progress(ev.step, ev.total_steps or None, ev.describe())
        elif ev.kind == "end":
            progress(ev.total_steps, ev.total_steps or None, ev.status)
    return on_event


def write_history(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite the CSV (one row per epoch) with the union of columns, first-seen order."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()})

    atomic_write_with(path, write, sync_dir=False, error=AffectTraceError)
