"""A tiny CNN for 112x112 crops: strided conv stages, few channels; trains in minutes on a CPU."""
from __future__ import annotations

import torch
from torch import nn

# (output channels, convolutions) per stage; each stage starts with a stride-2 convolution
STAGES: tuple[tuple[int, int], ...] = ((16, 1), (32, 1), (64, 2), (128, 2))


def _conv(in_ch: int, out_ch: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)]


class TinyCNN(nn.Module):
    """Image -> features: the last map pooled to ``grid`` x ``grid`` and flattened.

    The first stages are single thin convolutions at full resolution (thin lines such as pressed lips
    or narrowed eyelids survive the downsampling); the work is done at 14x14 and 7x7. A small grid
    instead of one global average keeps where on the face a feature fired.
    """

    def __init__(self, stages: tuple[tuple[int, int], ...] = STAGES, grid: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 3
        for out_ch, n in stages:
            layers += _conv(in_ch, out_ch, 2)
            for _ in range(n - 1):
                layers += _conv(out_ch, out_ch, 1)
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.feature_dim = in_ch * grid * grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(self.features(x)), 1)
