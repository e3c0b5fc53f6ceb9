"""Validation: run the model over a loader, gather predictions and labels, score them with ABAW metrics."""
from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from ..data.augment import Augment, prepare_images
from ..labels import AU_MISSING, EXPR_MISSING
from .losses import MultiTaskLoss, select


def to_device(batch: dict[str, Any], device: torch.device, channels_last: bool = False,
              augment: Augment | None = None) -> dict[str, Any]:
    """Tensors to ``device``; uint8 images become the network's input there (augmented with ``augment``)."""
    out: dict[str, Any] = {}
    for k, v in batch.items():
        if isinstance(v, torch.Tensor):
            v = v.to(device, non_blocking=True)
            if k == "image" and channels_last and v.dim() == 4 and v.dtype != torch.uint8:
                v = v.contiguous(memory_format=torch.channels_last)
        out[k] = v
    image = out.get("image")
    if isinstance(image, torch.Tensor) and image.dtype == torch.uint8:
        out["image"] = prepare_images(image, augment, out.get("face"), channels_last)
    return out


def forward(model: nn.Module, batch: dict[str, Any], train_arcface: bool = False) -> dict[str, torch.Tensor]:
    """Run the model on a batch; an ArcFace head in training also gets the labels (-1 where masked)."""
    labels = None
    if train_arcface and "expr" in batch:
        labels = batch["expr"].long()
        if "expr_mask" in batch:
            labels = torch.where(batch["expr_mask"].bool(), labels, torch.full_like(labels, -1))
    return model(batch["image"], batch.get("audio"), labels)


@torch.no_grad()
def collect(model: nn.Module, batches: Iterable[dict[str, Any]], tasks: tuple[str, ...], device: torch.device,
            autocast: Any = None, loss_fn: MultiTaskLoss | None = None,
            channels_last: bool = False) -> dict[str, np.ndarray | float]:
    """Predictions and references as numpy arrays (unlabelled references NaN / -1) and the mean loss."""
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    losses: list[float] = []
    for batch in batches:
        batch = to_device(batch, device, channels_last)
        with autocast or nullcontext():
            out = forward(model, batch)
        if loss_fn is not None:
            total, _ = loss_fn(out, batch)
            losses.append(float(total))
        for task in tasks:
            pred, mask = select(out, batch, task)
            ref = batch[task]
            if task == "va":
                p = pred.float().reshape(-1, 2)
                r = ref.float().reshape(-1, 2).clone()
                r[~mask.reshape(-1)] = float("nan")
            elif task == "expr":
                p = pred.float().reshape(-1, pred.shape[-1])
                r = ref.long().reshape(-1).clone()
                r[~mask.reshape(-1)] = EXPR_MISSING
            else:
                k = pred.shape[-1]
                p = torch.sigmoid(pred.float()).reshape(-1, k)
                r = ref.float().reshape(-1, k).round().long().clone()
                m = mask.reshape(-1, k) if mask.dim() == ref.dim() else mask.reshape(-1, 1).expand(-1, k)
                r[~m] = AU_MISSING
            parts.setdefault(f"{task}_pred", []).append(p.cpu().numpy())
            parts.setdefault(f"{task}_ref", []).append(r.cpu().numpy())
    result: dict[str, np.ndarray | float] = {k: np.concatenate(v) for k, v in parts.items()}
    result["loss"] = float(np.mean(losses)) if losses else float("nan")
    return result


def merge(collected: list[dict[str, Any]]) -> dict[str, Any]:
    """Concatenate per-rank collections (DDP) into one."""
    keys = [k for k in collected[0] if k != "loss"]
    out: dict[str, Any] = {k: np.concatenate([c[k] for c in collected if len(c.get(k, ()))]) for k in keys
                           if any(len(c.get(k, ())) for c in collected)}
    losses = [c["loss"] for c in collected if not math.isnan(c["loss"])]
    out["loss"] = float(np.mean(losses)) if losses else float("nan")
    return out


def score(collected: dict[str, Any], tasks: tuple[str, ...], expressions: tuple[str, ...],
          aus: tuple[str, ...], abaw: int = 2022, au_threshold: float = 0.5) -> dict[str, Any]:
    """ABAW scores per task (core.metrics) and ``score``, the sum over the trained tasks (higher is better)."""
    from ..metrics.categorical import au_scores, expr_scores
    from ..metrics.continuous import va_scores

    out: dict[str, Any] = {"loss": collected.get("loss", float("nan"))}
    total = 0.0
    for task in tasks:
        if f"{task}_pred" not in collected:
            out[task] = {"score": float("nan"), "frames": 0}
            total = float("nan")
            continue
        p, r = collected[f"{task}_pred"], collected[f"{task}_ref"]
        if task == "va":
            s = va_scores(p, r)
        elif task == "expr":
            s = expr_scores(p.argmax(1), r, abaw=2020 if len(expressions) == 7 else abaw,
                            class_names=tuple(expressions))
        else:
            s = au_scores(p, r, abaw=abaw, au_names=tuple(aus), threshold=au_threshold)
        out[task] = s
        total += float(s["score"])
    out["score"] = total
    return out


def flat_metrics(scores: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of ``score()`` as one flat dict for the history CSV and events."""
    flat: dict[str, float] = {"val_loss": float(scores.get("loss", float("nan"))),
                              "val_score": float(scores.get("score", float("nan")))}
    for task in ("va", "expr", "au"):
        s = scores.get(task)
        if not s:
            continue
        flat[f"val_{task}"] = float(s["score"])
        if task == "va":
            flat["val_ccc_valence"] = float(s.get("ccc_valence", float("nan")))
            flat["val_ccc_arousal"] = float(s.get("ccc_arousal", float("nan")))
        else:
            flat[f"val_{task}_f1"] = float(s.get("f1", float("nan")))
            flat[f"val_{task}_accuracy"] = float(s.get("accuracy", float("nan")))
    return flat


def detail_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    """What the dashboard draws for an epoch beside the headline numbers: the EXPR confusion matrix
    (rows: reference, columns: prediction) and per-class F1, and the per-AU F1 (JSON-ready)."""
    out: dict[str, Any] = {}
    expr, au = scores.get("expr") or {}, scores.get("au") or {}
    if "confusion" in expr:
        out["expr_classes"] = list(expr.get("classes", ()))
        out["expr_confusion"] = np.asarray(expr["confusion"]).astype(int).tolist()
        out["expr_per_class_f1"] = dict(expr.get("per_class_f1", {}))
    if "per_au_f1" in au:
        out["au_per_au_f1"] = dict(au["per_au_f1"])
    return out
