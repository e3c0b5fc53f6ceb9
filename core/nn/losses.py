"""Masked multi-task losses: CCC loss for VA, cross-entropy (or ArcFace logits) for EXPR, BCE for AUs."""
from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F

from ..labels import TASKS


def _full(x: torch.Tensor) -> torch.Tensor:
    """At least float32 (AMP outputs are half precision); float64 stays float64."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def ccc(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Concordance correlation along dim 0 with population statistics (ddof = 0), differentiable."""
    mx, my = x.mean(0), y.mean(0)
    dx, dy = x - mx, y - my
    cov = (dx * dy).mean(0)
    return 2.0 * cov / (dx.pow(2).mean(0) + dy.pow(2).mean(0) + (mx - my).pow(2) + eps)


def ccc_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
    """1 - mean over columns (valence, arousal) of the CCC over the labelled rows; None under 2 rows."""
    if mask is not None:
        pred, target = pred[mask], target[mask]
    if pred.shape[0] < 2:
        return None
    return 1.0 - ccc(_full(pred), _full(target)).mean()


def expr_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None,
              label_smoothing: float = 0.0, weight: torch.Tensor | None = None) -> torch.Tensor | None:
    """Cross-entropy over labelled frames (ArcFace heads pass their margin logits here)."""
    valid = target >= 0
    if mask is not None:
        valid = valid & mask
    if not bool(valid.any()):
        return None
    return F.cross_entropy(_full(logits[valid]), target[valid].long(), weight=weight,
                           label_smoothing=label_smoothing)


def au_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None,
            pos_weight: torch.Tensor | None = None) -> torch.Tensor | None:
    """Binary cross-entropy averaged over labelled (frame, AU) pairs; mask is per frame or per AU."""
    valid = target >= 0
    if mask is not None:
        valid = valid & (mask if mask.dim() == target.dim() else mask.unsqueeze(-1))
    if not bool(valid.any()):
        return None
    per = F.binary_cross_entropy_with_logits(_full(logits), _full(target.clamp_min(0)), reduction="none",
                                             pos_weight=pos_weight)
    return (per * valid).sum() / valid.sum()


class MultiTaskLoss:
    """Weighted sum of the masked task losses for any subset of ('va', 'expr', 'au').

    ``__call__(outputs, batch) -> (total, {task: loss})``. Tasks without a labelled frame in the batch
    add nothing; every output still joins the graph with weight 0 so DDP sees a gradient for every head.
    """

    def __init__(self, tasks: tuple[str, ...] | list[str], weights: Mapping[str, float] | None = None,
                 label_smoothing: float = 0.0, au_pos_weight: torch.Tensor | None = None) -> None:
        bad = [t for t in tasks if t not in TASKS]
        if bad or not tasks:
            raise ValueError(f"tasks must be a non-empty subset of {', '.join(TASKS)}, got {list(tasks)}")
        self.tasks = tuple(tasks)
        self.weights = {t: float((weights or {}).get(t, 1.0)) for t in self.tasks}
        self.label_smoothing = label_smoothing
        self.au_pos_weight = au_pos_weight

    def __call__(self, outputs: Mapping[str, torch.Tensor],
                 batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        parts: dict[str, torch.Tensor] = {}
        for task in self.tasks:
            pred, mask = select(outputs, batch, task)
            target = batch[task]
            if task == "va":
                loss = ccc_loss(pred.reshape(-1, 2), target.reshape(-1, 2), mask.reshape(-1))
            elif task == "expr":
                loss = expr_loss(pred.reshape(-1, pred.shape[-1]), target.reshape(-1), mask.reshape(-1),
                                 self.label_smoothing)
            else:
                k = pred.shape[-1]
                m = mask.reshape(-1, k) if mask.shape[-1:] == (k,) and mask.dim() == target.dim() else mask.reshape(-1)
                pw = None if self.au_pos_weight is None else self.au_pos_weight.to(pred.device)
                loss = au_loss(pred.reshape(-1, k), target.reshape(-1, k), m, pw)
            if loss is not None:
                parts[task] = loss
        total = torch.stack([_full(o).sum() for o in outputs.values()]).sum() * 0.0
        for task, loss in parts.items():
            total = total + self.weights[task] * loss
        return total, parts


def select(outputs: Mapping[str, torch.Tensor], batch: Mapping[str, torch.Tensor],
           task: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The output scored for ``task`` and its label mask: window outputs (B, T, ...) meet per-frame
    labels (B, T, ...) frame by frame, or per-window labels (B, ...) at the window's last frame."""
    pred, target = outputs[task], batch[task]
    per_sample_dims = {"va": 1, "expr": 0, "au": 1}[task]
    if pred.dim() - 1 == target.dim() - per_sample_dims + 1:
        pred = pred[:, -1]
    mask = batch.get(f"{task}_mask")
    if mask is None:
        mask = torch.ones(target.shape[: target.dim() - per_sample_dims], dtype=torch.bool, device=target.device)
    return pred, mask.bool()
