"""VGG-16 backbone in the VGG-FACE layout (conv1_1 ... conv5_3), as used by MT-VGG / MT-ArcVGG."""
from __future__ import annotations

import torch
from torch import nn

# (block, convs per block, channels) of VGG-16
_BLOCKS: tuple[tuple[int, int, int], ...] = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))
CONV_NAMES: tuple[str, ...] = tuple(f"conv{b}_{i}" for b, n, _ in _BLOCKS for i in range(1, n + 1))
# torchvision's vgg16().features indices of the 13 convolutions, in order
TORCHVISION_CONV_INDEX: tuple[int, ...] = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)


class VGG16(nn.Module):
    """The 13 convolutions of VGG-16 with ReLU and max pooling; global average pool to 512 features.

    Module names follow the VGG-FACE torch conversion (``conv1_1.weight`` ...), so its state dict
    loads without renaming; torchvision's ``features.N`` names are mapped by ``core.nn.pretrained``.
    """

    feature_dim = 512

    def __init__(self) -> None:
        super().__init__()
        in_ch = 3
        for block, n, ch in _BLOCKS:
            for i in range(1, n + 1):
                self.add_module(f"conv{block}_{i}", nn.Conv2d(in_ch, ch, 3, padding=1))
                in_ch = ch
        self.pool = nn.MaxPool2d(2, 2)
        self.relu = nn.ReLU(inplace=True)
        self.gap = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block, n, _ in _BLOCKS:
            for i in range(1, n + 1):
                x = self.relu(getattr(self, f"conv{block}_{i}")(x))
            x = self.pool(x)
        return torch.flatten(self.gap(x), 1)
