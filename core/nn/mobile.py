"""A MobileNetV2-style backbone (inverted residuals, depthwise convolutions) sized for 112x112 crops on CPUs."""
from __future__ import annotations

import torch
from torch import nn

# (expansion t, output channels c, repeats n, first stride s) as in MobileNetV2, one stage fewer
# because 112x112 crops need one downsampling less than 224x224 images
_SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)


def _round(ch: float, divisor: int = 8) -> int:
    return max(divisor, int(ch + divisor / 2) // divisor * divisor)


def _conv_bn(in_ch: int, out_ch: int, k: int, stride: int, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, k, stride, k // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(out_ch)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = in_ch * t
        layers: list[nn.Module] = [] if t == 1 else [_conv_bn(in_ch, hidden, 1, 1)]
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden), _conv_bn(hidden, out_ch, 1, 1, act=False)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2(nn.Module):
    """Image -> pooled features (``feature_dim``), width scaled by ``width``."""

    def __init__(self, width: float = 1.0, feature_dim: int = 640) -> None:
        super().__init__()
        ch = _round(32 * width)
        layers: list[nn.Module] = [_conv_bn(3, ch, 3, 2)]
        for t, c, n, s in _SETTINGS:
            out = _round(c * width)
            for i in range(n):
                layers.append(InvertedResidual(ch, out, s if i == 0 else 1, t))
                ch = out
        layers.append(_conv_bn(ch, feature_dim, 1, 1))
        self.features = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.feature_dim = feature_dim
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.gap(self.features(x)), 1)
