"""CNN-RNN: per-frame CNN features through a 2-layer GRU over a window of consecutive frames."""
from __future__ import annotations

import torch
from torch import nn


class TemporalGRU(nn.Module):
    """(B, T, F) -> (B, T, hidden): each frame's output sees the frames before it in the window."""

    def __init__(self, in_features: int, hidden: int = 256, layers: int = 2, dropout: float = 0.2) -> None:
        super().__init__()
        self.gru = nn.GRU(in_features, hidden, num_layers=layers, batch_first=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.feature_dim = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return out
