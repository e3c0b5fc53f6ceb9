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
from typing import Any, Callable, Sized, cast

import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.augment import Augment
from ..errors import AffectTraceError
from ..events import Signal
from ..fsio import atomic_write_bytes
from ..progress import CancelToken
from ..words import EndState
from . import ddp
from .checkpoint import LabelSpaces, finetune_from, load_weights, read_checkpoint, save_checkpoint
from .config import TrainConfig
from .feed import auto_batch_size, build_feed
from .losses import MultiTaskLoss
from .presets import build_model, get_preset
from .pretrained import load_pretrained
from .schedule import lr_at, make_optimizer, set_lr
from .tally import LossTally, Reading
from .trainevents import TrainEvent, memory_mb, write_history
from .validate import collect, detail_metrics, flat_metrics, forward, merge, score, to_device

BEST, LAST, CONFIG, HISTORY, SUMMARY = "best.pt", "last.pt", "config.toml", "history.csv", "summary.json"


TrainStatus = EndState  # how a run ended: one of the job end states (core.words), never FAILED


@dataclass
class TrainResult:
    status: TrainStatus
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
        pos, neg = (p, q) if pos is None or neg is None else (pos + p, neg + q)
    if pos is None or neg is None or float(pos.sum() + neg.sum()) == 0:
        return None
    return torch.sqrt(neg.clamp_min(1) / pos.clamp_min(1)).clamp(1.0, cap).float()


class Trainer:
    """``Trainer(cfg, train_set, val_set, labels, run_dir).fit() -> TrainResult``.

    Datasets yield the batch dict of core.data. Subscribe to ``events`` (TrainEvent) or pass
    ``on_event``; ``cancel.cancel()`` stops between steps. ``resume=True`` continues ``run_dir``.
    """

    event_interval_s = 0.25  # step events (and the loss read-back that waits for the device) at most this often

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
        self.finetune_report: dict[str, Any] | None = None

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
        elif cfg.finetune:
            self.finetune_report = finetune_from(self.model, cfg.finetune, self.labels, cfg.preset).to_dict()
        elif cfg.pretrained:
            self.pretrained_report = load_pretrained(self.model.backbone, cfg.pretrained).to_dict()
        self._rng = torch.get_rng_state()  # as of the last finished epoch: what resuming restores
        self.model.to(self.device)
        self.cuda = self.device.type == "cuda"
        self.channels_last = cfg.channels_last and self.cuda
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks it
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
        if cfg.compile:  # training forward passes only; validation runs the plain model
            self.net = torch.compile(self.net)  # type: ignore[assignment]
        if cfg.batch_size == 0:
            cfg.batch_size = auto_batch_size(self.preset, self.device)
        # uint8 batches (datasets with raw crops) are augmented on the device, per sample, in batched ops
        self.device_augment = Augment() if cfg.augment else None
        pos_weight = au_pos_weight(self.train_set, cfg.seed) if cfg.au_balance and "au" in self.tasks else None
        self.loss_fn = MultiTaskLoss(self.tasks, cfg.task_weights, cfg.label_smoothing, pos_weight)
        self._loaders()

    def _loaders(self) -> None:
        cfg = self.cfg
        if len(self.train_set) == 0:  # type: ignore[arg-type]
            raise AffectTraceError("no training frames: check the split, the label track and the face caches")
        self.feed = build_feed(self.train_set, self.val_set, cfg, self.dist, self.cuda)
        self.sampler, self.train_loader, self.val_loader = self.feed.sampler, self.feed.train, self.feed.val
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
            result = self._fit()
        except BaseException:
            if fresh and getattr(self, "main", False) and not (self.run_dir / LAST).exists():
                shutil.rmtree(self.run_dir, ignore_errors=True)  # a run with no checkpoint is no run: leave none
            ddp.shutdown()
            raise
        ddp.shutdown(finished=True)
        return result

    def _fit(self) -> TrainResult:
        cfg = self.cfg
        message = (f"{self.preset.name} on {self.device}, {len(cast(Sized, self.train_set))} training samples, "
                   f"batch {cfg.batch_size}, {self.dist.world} process(es), {self.feed.workers} loader worker(s)"
                   + (" fetching whole uint8 batches" if self.feed.batched else "")
                   + (", compiled" if cfg.compile else ""))
        if self.finetune_report:
            message += "; fine-tuned from " + self.finetune_report["describe"]
        if self.pretrained_report:
            r = self.pretrained_report
            message += (f"; pretrained {r['path']}: {r['matched']} tensors loaded, {len(r['missing'])} missing, "
                        f"{len(r['unexpected'])} unexpected, {len(r['mismatched'])} of another shape")
        info = {"run_dir": str(self.run_dir), "train_samples": len(self.train_set),  # type: ignore[arg-type]
                "val_samples": len(self.val_set) if self.val_set is not None else 0,  # type: ignore[arg-type]
                "resumed": self.resume}
        self._emit(TrainEvent("start", self.start_epoch + 1, cfg.epochs, self.step, self.total_steps,
                              message=message, device=str(self.device), info=info))
        status, message, epoch = TrainStatus.FINISHED, "", self.start_epoch
        t0, steps_at_t0 = time.perf_counter(), self.step
        for epoch in range(self.start_epoch + 1, cfg.epochs + 1):
            outcome = self._train_epoch(epoch, t0, steps_at_t0)
            if outcome is not None:
                status, message = outcome
                if status == TrainStatus.CANCELLED and self.main:
                    self._save_last(epoch - 1)  # the weights so far; resume repeats the unfinished epoch
                epoch -= 1
                break
            if self._end_epoch(epoch):
                status = TrainStatus.EARLY_STOPPED
                message = f"no better validation score for {cfg.early_stopping} epochs"
                break
        result = self._finish(status, message, epoch)
        self._emit(TrainEvent("end", epoch, cfg.epochs, self.step, self.total_steps, status=status.value,
                              message=result.message))
        return result

    def _train_epoch(self, epoch: int, t0: float, steps_at_t0: int) -> tuple[TrainStatus, str] | None:
        cfg = self.cfg
        self.net.train()
        self.sampler.set_epoch(epoch)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        tally, reading, read_at = LossTally(), None, 0
        last_emit, window_images, window_t = 0.0, 0, time.perf_counter()
        for i, batch in enumerate(self.train_loader):
            if i >= self.steps_per_epoch:
                break
            # before the forward pass: a train-mode forward already moves BatchNorm statistics
            stop = self._stop(epoch, i, reading, read_at)
            if stop is not None:
                return stop
            if reading is not None:
                reading, read_at = None, i
            batch = to_device(batch, self.device, self.channels_last, self.device_augment)
            lr = lr_at(cfg, self.step, self.total_steps, self.steps_per_epoch)
            set_lr(self.optimizer, lr)
            with self._autocast():
                out = forward(self.net, batch, train_arcface=self.preset.arcface)
                total, parts = self.loss_fn(out, batch)
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
            tally.add(total, parts)
            img = batch["image"]
            window_images += int(img.shape[0] * (img.shape[1] if img.dim() == 5 else 1)) * self.dist.world
            now = time.perf_counter()
            if now - last_emit >= self.event_interval_s or i + 1 == self.steps_per_epoch:
                reading = tally.read()  # the one wait for the device in a while
                for k, v in reading.sums.items():
                    sums[k] = sums.get(k, 0.0) + v
                    counts[k] = counts.get(k, 0) + reading.counts[k]
                rate = window_images / max(now - window_t, 1e-9)
                per_step = (now - t0) / max(1, self.step - steps_at_t0)
                self._emit(TrainEvent("step", epoch, cfg.epochs, self.step, self.total_steps, reading.means(), lr,
                                      rate, per_step * (self.total_steps - self.step), device=str(self.device),
                                      memory_mb=memory_mb(self.device)))
                last_emit, window_images, window_t = now, 0, now
        stop = self._stop(epoch, self.steps_per_epoch, reading, read_at, cancel=False)
        if stop is not None:
            return stop
        self._epoch_losses = {k: sums[k] / counts[k] for k in sums}
        return None

    def _stop(self, epoch: int, i: int, reading: Reading | None, read_at: int,
              cancel: bool = True) -> tuple[TrainStatus, str] | None:
        """The one stop check, between steps: diverged when ``reading`` (the losses of the steps since
        ``read_at``) holds a non-finite loss; cancelled when asked before step ``i + 1``. Every rank agrees."""
        bad = reading is not None and reading.first_bad is not None
        cancelled, diverged = ddp.any_flag([cancel and self.cancel.cancelled, bad], self.device, self.dist)
        if diverged:
            return TrainStatus.DIVERGED, self._nan_message(epoch, read_at, reading)
        if cancelled:
            return TrainStatus.CANCELLED, f"cancelled at epoch {epoch} step {i + 1}"
        return None

    def _nan_message(self, epoch: int, read_at: int, reading: Reading | None) -> str:
        last = self.run_dir / LAST
        kept = f"last good checkpoint kept: {last}" if last.exists() else "no checkpoint was written yet"
        if reading is None or reading.first_bad is None:
            what = "on another process"
        else:
            what = (f"{reading.sums.get('total', float('nan'))} at epoch {epoch} step {read_at + reading.first_bad} "
                    f"({', '.join(reading.bad_parts())} loss)")
        return (f"loss became {what}: training stopped; {kept}. Try a lower learning rate (--lr) or --amp none")

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

    def _finish(self, status: TrainStatus, message: str, epoch: int) -> TrainResult:
        digests = ddp.gather_objects(weights_digest(self.model), self.dist)
        best = getattr(self, "best_scores", {})
        if not message:
            message = f"{status} after {epoch} epoch(s)"
        if self.main:
            summary = {"status": status.value, "message": message, "epochs_done": epoch, "preset": self.cfg.preset,
                       "run_id": self.cfg.run_id, "world_size": self.dist.world, "rank_digests": digests,
                       "best_score": None if math.isinf(self.best) else self.best,
                       "best_metrics": flat_metrics(best) if best else {},
                       "best_epoch": next((r["epoch"] for r in reversed(self.history) if r.get("best")), None),
                       "best_details": detail_metrics(best) if best else {},
                       "pretrained": self.pretrained_report, "finetune": self.finetune_report}
            atomic_write_bytes(self.run_dir / SUMMARY, json.dumps(summary, indent=2, default=float).encode(),
                               error=AffectTraceError)
        return TrainResult(status, self.run_dir, epoch, best, message)
