"""Multi-task heads: VA (2, tanh), EXPR (logits or ArcFace), AU (one logit per AU)."""
from __future__ import annotations

import warnings

import torch
from torch import nn

from .arcface import ArcFaceHead


class MultiTaskHeads(nn.Module):
    """Shared neck (Linear-ReLU-Dropout) and the three task heads; all heads always exist so a
    checkpoint's architecture does not depend on which tasks were trained."""

    def __init__(self, in_features: int, n_expr: int, n_au: int, hidden: int = 512, dropout: float = 0.3,
                 arcface: dict | None = None) -> None:
        super().__init__()
        self.neck = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.va = nn.Linear(hidden, 2)
        self.expr: nn.Module = (ArcFaceHead(hidden, n_expr, **arcface) if arcface is not None
                                else nn.Linear(hidden, n_expr))
        with warnings.catch_warnings():  # an image database without AU labels gives an AU head of no outputs
            warnings.filterwarnings("ignore", "Initializing zero-element tensors")
            self.au = nn.Linear(hidden, n_au)
        self.uses_arcface = arcface is not None

    def forward(self, feats: torch.Tensor, expr_labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h = self.neck(feats)
        if self.uses_arcface:
            expr = self.expr(h, expr_labels if self.training else None)
        else:
            expr = self.expr(h)
        return {"va": torch.tanh(self.va(h)), "expr": expr, "au": self.au(h)}
