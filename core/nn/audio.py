"""Audio stream: a small CNN over a log-mel window around each frame, and its fusion with visual features."""
from __future__ import annotations

import torch
from torch import nn


class AudioCNN(nn.Module):
    """(B, 1, n_mels, t) log-mel -> (B, feature_dim). Any n_mels / t (global pooling at the end)."""

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64), feature_dim: int = 128) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.BatchNorm2d(1)]  # normalises the log-mel scale per run
        in_ch = 1
        for ch in channels:
            layers += [nn.Conv2d(in_ch, ch, 3, 1, 1, bias=False), nn.BatchNorm2d(ch), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2, ceil_mode=True)]
            in_ch = ch
        self.features = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(in_ch, feature_dim), nn.ReLU(inplace=True))
        self.feature_dim = feature_dim

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.gap(self.features(mel)), 1))


def fuse(visual: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
    """Concatenate visual (..., Fv) and audio (..., Fa) features; audio per window is broadcast over frames."""
    if audio.dim() < visual.dim():
        audio = audio.unsqueeze(1).expand(*visual.shape[:-1], audio.shape[-1])
    return torch.cat([visual, audio.to(visual.dtype)], dim=-1)
