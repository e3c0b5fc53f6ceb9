"""The training loop: AMP, channels_last, gradient clipping, validation with ABAW scores each epoch,
best/last checkpoints, resume, cancel, early stopping, NaN stop, progress events and DDP."""
from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset

from ..data.loader import collate_batch, default_workers
from ..errors import AffectTraceError
from ..events import Signal
from ..fsio import atomic_write_bytes
from ..progress import CancelToken
from . import ddp
from .checkpoint import LabelSpaces, load_weights, read_checkpoint, save_checkpoint
from .config import TrainConfig
from .losses import MultiTaskLoss
from .presets import build_model, get_preset
from .pretrained import load_pretrained
from .schedule import lr_at, make_optimizer, set_lr
from .trainevents import TrainEvent, memory_mb, write_history
from .validate import collect, detail_metrics, flat_metrics, forward, merge, score, to_device

BEST, LAST, CONFIG, HISTORY, SUMMARY = "best.pt", "last.pt", "config.toml", "history.csv", "summary.json"


@dataclass
class TrainResult:
    status: str  # finished | cancelled | early-stopped | diverged
    run_dir: Path
    epochs_done: int
    best_metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    @property
    def best_checkpoint(self) -> Path:
        return self.run_dir / BEST

    @property
    def last_checkpoint(self) -> Path:
        return self.run_dir / LAST


def resolve_device(spec: str, local_rank: int = 0) -> torch.device:
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise AffectTraceError(f"device {spec!r} asked for, but this PyTorch sees no CUDA GPU "
                                   f"(torch {torch.__version__}); use --device cpu")
        if spec == "cuda":
            return torch.device("cuda", local_rank)
    return torch.device(spec)


def amp_dtype(cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    if cfg.amp == "none" or (cfg.amp == "auto" and device.type != "cuda"):
        return None
    if cfg.amp == "fp16" and device.type != "cuda":
        raise AffectTraceError("--amp fp16 needs a CUDA device; on the CPU use --amp bf16 or none")
    if cfg.amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cfg.amp == "bf16" else torch.float16


def weights_digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def au_pos_weight(dataset: Dataset, seed: int = 0, sample: int = 512, cap: float = 10.0) -> torch.Tensor | None:
    """sqrt(negatives / positives) per AU from up to ``sample`` random training items (rare AUs weigh more,
    which F1 rewards); None when no AU label is seen. Every DDP rank draws the same items."""
    n = len(dataset)  # type: ignore[arg-type]
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(n, generator=g)[:sample].tolist()
    pos = neg = None
    for i in idx:
        item = dataset[i]
        au = torch.as_tensor(item["au"], dtype=torch.float32)
        mask = torch.as_tensor(item.get("au_mask", True), dtype=torch.bool)
        valid = (au >= 0) & (mask if mask.dim() == au.dim() else mask.unsqueeze(-1))
        au = au.reshape(-1, au.shape[-1])
        valid = valid.reshape(-1, au.shape[-1])
        p, q = ((au == 1) & valid).sum(0).double(), ((au == 0) & valid).sum(0).double()
        pos, neg = (p, q) if pos is None else (pos + p, neg + q)
    if pos is None or float(pos.sum() + neg.sum()) == 0:
        return None
    return torch.sqrt(neg.clamp_min(1) / pos.clamp_min(1)).clamp(1.0, cap).float()


class Trainer:
    """``Trainer(cfg, train_set, val_set, labels, run_dir).fit() -> TrainResult``.

    Datasets yield the batch dict of core.data. Subscribe to ``events`` (TrainEvent) or pass
    ``on_event``; ``cancel.cancel()`` stops between steps. ``resume=True`` continues ``run_dir``.
    """

    def __init__(self, cfg: TrainConfig, train_set: Dataset, val_set: Dataset | None, labels: LabelSpaces,
                 run_dir: str | Path, cancel: CancelToken | None = None,
                 on_event: Callable[[TrainEvent], None] | None = None, resume: bool = False) -> None:
        self.cfg, self.train_set, self.val_set, self.labels = cfg, train_set, val_set, labels
        self.run_dir = Path(run_dir)
        self.cancel = cancel or CancelToken()
        self.events = Signal()
        if on_event is not None:
            self.events.connect(on_event)
        self.resume = resume
        self.preset = get_preset(cfg.preset)
        self.tasks = tuple(cfg.tasks)
        self.history: list[dict[str, Any]] = []
        self.pretrained_report: dict[str, Any] | None = None

    # ----------------------------------------------------------------- setup
    def _setup(self) -> None:
        cfg = self.cfg
        info = ddp.env_info()
        self.device = resolve_device(cfg.device, info.local_rank)
        self.dist = ddp.init(self.device)
        self.main = self.dist.main
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        random.seed(cfg.seed)
        self.model = build_model(self.preset, len(self.labels.expressions), len(self.labels.aus), cfg.arc_s, cfg.arc_m)
        self.step, self.start_epoch, self.best, self.bad_epochs = 0, 0, -math.inf, 0
        state: dict[str, Any] = {}
        if self.resume:
            ckpt = read_checkpoint(self.run_dir / LAST)
            load_weights(self.model, ckpt["model"], self.run_dir / LAST)
            state = ckpt.get("training", {})
            self.step, self.start_epoch = int(ckpt["step"]), int(ckpt["epoch"])
            self.best = float(state.get("best_score", -math.inf))
            self.bad_epochs = int(state.get("bad_epochs", 0))
            self.history = list(state.get("history", []))
            if "rng" in state:
                torch.set_rng_state(state["rng"])
        elif cfg.pretrained:
            self.pretrained_report = load_pretrained(self.model.backbone, cfg.pretrained).to_dict()
        self._rng = torch.get_rng_state()  # as of the last finished epoch: what resuming restores
        self.model.to(self.device)
        self.cuda = self.device.type == "cuda"
        self.channels_last = cfg.channels_last and self.cuda
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        if self.cuda:
            torch.backends.cudnn.benchmark = True
        self.dtype = amp_dtype(cfg, self.device)
        self.optimizer = make_optimizer(self.model, cfg)
        self.scaler = torch.amp.GradScaler("cuda") if self.dtype == torch.float16 else None
        if state.get("optimizer"):
            self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.net: torch.nn.Module = self.model
        if self.dist.enabled:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.cuda else None)
        pos_weight = au_pos_weight(self.train_set, cfg.seed) if cfg.au_balance and "au" in self.tasks else None
        self.loss_fn = MultiTaskLoss(self.tasks, cfg.task_weights, cfg.label_smoothing, pos_weight)
        self._loaders()

    def _loaders(self) -> None:
        cfg, d = self.cfg, self.dist
        if len(self.train_set) == 0:  # type: ignore[arg-type]
            raise AffectTraceError("no training frames: check the split, the label track and the face caches")
        # also without DDP: a seeded per-epoch permutation makes resumed runs repeat the same order
        self.sampler = DistributedSampler(self.train_set, num_replicas=d.world, rank=d.rank, shuffle=True,
                                          seed=cfg.seed)
        shard = len(self.sampler)
        workers = cfg.num_workers if cfg.num_workers >= 0 else (default_workers() if self.cuda else 0)
        kw: dict[str, Any] = {"num_workers": workers, "pin_memory": self.cuda,
                              "persistent_workers": workers > 0, "collate_fn": collate_batch}
        self.train_loader = DataLoader(self.train_set, batch_size=cfg.batch_size, sampler=self.sampler,
                                       drop_last=shard > cfg.batch_size, **kw)
        self.val_loader = None
        if self.val_set is not None and len(self.val_set) > 0:  # type: ignore[arg-type]
            part = Subset(self.val_set, range(d.rank, len(self.val_set), d.world))  # type: ignore[arg-type]
            self.val_loader = DataLoader(part, batch_size=cfg.batch_size * 2, shuffle=False, **kw)
        n = len(self.train_loader)
        self.steps_per_epoch = min(n, cfg.max_steps_per_epoch) if cfg.max_steps_per_epoch else n
        self.total_steps = self.steps_per_epoch * cfg.epochs

    def _autocast(self) -> Any:
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def _emit(self, ev: TrainEvent) -> None:
        self.events.emit(ev)

    # ----------------------------------------------------------------- loop
    def fit(self) -> TrainResult:
        fresh = not self.resume and not self.run_dir.exists()
        try:
            self._setup()
            if self.main:
                self.run_dir.mkdir(parents=True, exist_ok=True)
                self.cfg.save(self.run_dir / CONFIG)
            return self._fit()
        except BaseException:
            if fresh and getattr(self, "main", False) and not (self.run_dir / LAST).exists():
                shutil.rmtree(self.run_dir, ignore_errors=True)  # a run with no checkpoint is no run: leave none
            raise
        finally:
            ddp.shutdown()

    def _fit(self) -> TrainResult:
        cfg = self.cfg
        message = (f"{self.preset.name} on {self.device}, {len(self.train_set)} training samples, "
                   f"{self.dist.world} process(es)")
        if self.pretrained_report:
            r = self.pretrained_report
            message += (f"; pretrained {r['path']}: {r['matched']} tensors loaded, {len(r['missing'])} missing, "
                        f"{len(r['unexpected'])} unexpected, {len(r['mismatched'])} of another shape")
        info = {"run_dir": str(self.run_dir), "train_samples": len(self.train_set),  # type: ignore[arg-type]
                "val_samples": len(self.val_set) if self.val_set is not None else 0,  # type: ignore[arg-type]
                "resumed": self.resume}
        self._emit(TrainEvent("start", self.start_epoch + 1, cfg.epochs, self.step, self.total_steps,
                              message=message, device=str(self.device), info=info))
        status, message, epoch = "finished", "", self.start_epoch
        t0, steps_at_t0 = time.perf_counter(), self.step
        for epoch in range(self.start_epoch + 1, cfg.epochs + 1):
            outcome = self._train_epoch(epoch, t0, steps_at_t0)
            if outcome is not None:
                status, message = outcome
                if status == "cancelled" and self.main:
                    self._save_last(epoch - 1)  # the weights so far; resume repeats the unfinished epoch
                epoch -= 1
                break
            if self._end_epoch(epoch):
                status = "early-stopped"
                message = f"no better validation score for {cfg.early_stopping} epochs"
                break
        result = self._finish(status, message, epoch)
        self._emit(TrainEvent("end", epoch, cfg.epochs, self.step, self.total_steps, status=status,
                              message=result.message))
        return result

    def _train_epoch(self, epoch: int, t0: float, steps_at_t0: int) -> tuple[str, str] | None:
        cfg = self.cfg
        self.net.train()
        self.sampler.set_epoch(epoch)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        last_emit, window_images, window_t = 0.0, 0, time.perf_counter()
        for i, batch in enumerate(self.train_loader):
            if i >= self.steps_per_epoch:
                break
            # before the forward pass: a train-mode forward already moves BatchNorm statistics
            if ddp.any_flag([self.cancel.cancelled], self.device, self.dist)[0]:
                return "cancelled", f"cancelled at epoch {epoch} step {i + 1}"
            batch = to_device(batch, self.device, self.channels_last)
            lr = lr_at(cfg, self.step, self.total_steps, self.steps_per_epoch)
            set_lr(self.optimizer, lr)
            with self._autocast():
                out = forward(self.net, batch, train_arcface=self.preset.arcface)
                total, parts = self.loss_fn(out, batch)
            if ddp.any_flag([not bool(torch.isfinite(total))], self.device, self.dist)[0]:
                return "diverged", self._nan_message(epoch, i, total, parts)
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(total).backward()
                self.scaler.unscale_(self.optimizer)
            else:
                total.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            if self.scaler is not None:
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                self.optimizer.step()
            self.step += 1
            img = batch["image"]
            window_images += int(img.shape[0] * (img.shape[1] if img.dim() == 5 else 1)) * self.dist.world
            losses = {k: float(v.detach()) for k, v in [("total", total), *parts.items()]}
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
            now = time.perf_counter()
            if now - last_emit >= 0.25 or i + 1 == self.steps_per_epoch:
                rate = window_images / max(now - window_t, 1e-9)
                per_step = (now - t0) / max(1, self.step - steps_at_t0)
                self._emit(TrainEvent("step", epoch, cfg.epochs, self.step, self.total_steps, losses, lr, rate,
                                      per_step * (self.total_steps - self.step), device=str(self.device),
                                      memory_mb=memory_mb(self.device)))
                last_emit, window_images, window_t = now, 0, now
        self._epoch_losses = {k: sums[k] / counts[k] for k in sums}
        return None

    def _nan_message(self, epoch: int, i: int, total: torch.Tensor, parts: dict[str, torch.Tensor]) -> str:
        bad = [k for k, v in parts.items() if not bool(torch.isfinite(v))] or ["total"]
        last = self.run_dir / LAST
        kept = f"last good checkpoint kept: {last}" if last.exists() else "no checkpoint was written yet"
        return (f"loss became {float(total.detach())} at epoch {epoch} step {i + 1} ({', '.join(bad)} loss): training "
                f"stopped; {kept}. Try a lower learning rate (--lr) or --amp none")

    def _end_epoch(self, epoch: int) -> bool:
        """Validate, checkpoint, record history; True when early stopping says stop."""
        cfg = self.cfg
        scores: dict[str, Any] = {}
        ddp.sync_buffers(self.model, self.dist)
        if self.val_loader is not None:
            mine = collect(self.model, self.val_loader, self.tasks, self.device, self._autocast(), self.loss_fn,
                           self.channels_last)
            scores = score(merge(ddp.gather_objects(mine, self.dist)), self.tasks, self.labels.expressions,
                           self.labels.aus, cfg.abaw, cfg.au_threshold)
        flat = flat_metrics(scores) if scores else {}
        monitored = flat.get("val_score", float("nan"))
        if math.isnan(monitored):  # no validation set: the training loss decides
            monitored = -ddp.mean_scalar(self._epoch_losses.get("total", math.inf), self.device, self.dist)
        improved = monitored > self.best
        if improved:
            self.best, self.bad_epochs = monitored, 0
            self.best_scores = scores
        else:
            self.bad_epochs += 1
        row: dict[str, Any] = {"epoch": epoch, "step": self.step, "lr": self.optimizer.param_groups[0]["lr"]}
        row.update({f"train_{k}": v for k, v in self._epoch_losses.items()})
        row.update(flat)
        row["best"] = improved
        self.history.append(row)
        self._rng = torch.get_rng_state()
        if self.main:
            self._save_last(epoch, scores)
            if improved:
                save_checkpoint(self.run_dir / BEST, self.model, cfg, self.labels, epoch, self.step, scores)
            write_history(self.run_dir / HISTORY, self.history)
        self._emit(TrainEvent("epoch", epoch, cfg.epochs, self.step, self.total_steps, dict(self._epoch_losses),
                              row["lr"], metrics=flat, message="best so far" if improved else "",
                              details=detail_metrics(scores) if scores else {}))
        return bool(cfg.early_stopping) and self.bad_epochs >= cfg.early_stopping

    def _save_last(self, epoch: int, scores: dict[str, Any] | None = None) -> None:
        training = {"optimizer": self.optimizer.state_dict(), "step": self.step, "best_score": self.best,
                    "bad_epochs": self.bad_epochs, "history": self.history, "rng": self._rng}
        if self.scaler is not None:
            training["scaler"] = self.scaler.state_dict()
        save_checkpoint(self.run_dir / LAST, self.model, self.cfg, self.labels, epoch, self.step, scores,
                        training)

    def _finish(self, status: str, message: str, epoch: int) -> TrainResult:
        digests = ddp.gather_objects(weights_digest(self.model), self.dist)
        best = getattr(self, "best_scores", {})
        if not message:
            message = f"{status} after {epoch} epoch(s)"
        if self.main:
            summary = {"status": status, "message": message, "epochs_done": epoch, "preset": self.cfg.preset,
                       "run_id": self.cfg.run_id, "world_size": self.dist.world, "rank_digests": digests,
                       "best_score": None if math.isinf(self.best) else self.best,
                       "best_metrics": flat_metrics(best) if best else {},
                       "best_epoch": next((r["epoch"] for r in reversed(self.history) if r.get("best")), None),
                       "best_details": detail_metrics(best) if best else {},
                       "pretrained": self.pretrained_report}
            atomic_write_bytes(self.run_dir / SUMMARY, json.dumps(summary, indent=2, default=float).encode(),
                               error=AffectTraceError)
        return TrainResult(status, self.run_dir, epoch, best, message)
