"""ArcFace head (additive angular margin): logits s*cos(theta_j), s*cos(theta_y + m) for the true class."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class ArcFaceHead(nn.Module):
    """Cosine classifier with an additive angular margin on the true class during training.

    ``forward(x)`` gives ``s * cos(theta)`` (what inference uses); ``forward(x, labels)`` replaces the
    true class by ``s * cos(theta + m)``; labels < 0 (unlabelled frames) get no margin.
    ``monotonic=True`` applies the InsightFace fallback ``cos(theta) - m*sin(m)`` where
    ``theta + m > pi`` (keeps the logit decreasing in theta); the default is the plain formula.
    """

    def __init__(self, in_features: int, n_classes: int, s: float = 64.0, m: float = 0.5,
                 monotonic: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_classes, in_features))
        nn.init.xavier_uniform_(self.weight)
        self.s, self.m, self.monotonic = float(s), float(m), monotonic

    def cosine(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(F.normalize(x.float(), dim=-1), F.normalize(self.weight.float(), dim=-1))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        cos = self.cosine(x).clamp(-1.0, 1.0)
        if labels is None or self.m == 0.0:
            return self.s * cos
        # the margin is computed in float32 even under autocast: sqrt(1 - cos^2) loses everything in half
        sin = torch.sqrt((1.0 - cos * cos).clamp_min(1e-12))
        phi = cos * math.cos(self.m) - sin * math.sin(self.m)  # = cos(theta + m), theta in [0, pi]
        if self.monotonic:
            phi = torch.where(cos > math.cos(math.pi - self.m), phi, cos - self.m * math.sin(self.m))
        valid = labels >= 0
        onehot = F.one_hot(labels.clamp_min(0).long(), cos.shape[-1]).bool() & valid.unsqueeze(-1)
        return self.s * torch.where(onehot, phi, cos)
