"""A generated in-memory dataset with the batch layout of core.data, for benchmarks and tests of the
training machinery that need no project: the labels are drawn into the images, so models can learn them."""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset


class SyntheticFaces(Dataset):
    """``n`` samples of (3, size, size) images (or (window, 3, size, size)) with VA, EXPR and AU labels.

    VA sets horizontal / vertical intensity ramps, the expression lights one of n_expr cells in the top
    half, each AU one cell in the bottom half. ``unlabelled`` is the share of samples masked per task.
    """

    def __init__(self, n: int = 256, n_expr: int = 8, n_au: int = 12, size: int = 112, window: int = 1,
                 audio: bool = False, seed: int = 0, unlabelled: float = 0.1, noise: float = 0.3) -> None:
        g = torch.Generator().manual_seed(seed)
        self.n, self.n_expr, self.n_au, self.size, self.window, self.audio = n, n_expr, n_au, size, window, audio
        self.va = torch.rand(n, 2, generator=g) * 2 - 1
        self.expr = torch.randint(0, n_expr, (n,), generator=g)
        self.au = (torch.rand(n, n_au, generator=g) < 0.4).float()
        self.masks = {t: torch.rand(n, generator=g) >= unlabelled for t in ("va", "expr", "au")}
        self.noise_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
        self.noise = noise

    def __len__(self) -> int:
        return self.n

    def _image(self, i: int) -> torch.Tensor:
        s = self.size
        g = torch.Generator().manual_seed(self.noise_seed + i)
        img = torch.randn(3, s, s, generator=g) * self.noise
        ramp = torch.linspace(-1, 1, s)
        img[0] += self.va[i, 0] * ramp.view(1, s)
        img[1] += self.va[i, 1] * ramp.view(s, 1)
        half = s // 2
        cw = max(1, s // self.n_expr)
        e = int(self.expr[i])
        img[2, : half // 2, e * cw:(e + 1) * cw] += 2.0
        aw = max(1, s // self.n_au)
        for j in torch.nonzero(self.au[i]).flatten().tolist():
            img[2, half + half // 2:, j * aw:(j + 1) * aw] += 2.0
        return img

    def __getitem__(self, i: int) -> dict[str, Any]:
        img = self._image(i)
        item: dict[str, Any] = {
            "image": img if self.window == 1 else img.unsqueeze(0).repeat(self.window, 1, 1, 1),
            "va": self.va[i].clone(), "va_mask": bool(self.masks["va"][i]),
            "expr": int(self.expr[i]), "expr_mask": bool(self.masks["expr"][i]),
            "au": self.au[i].clone(), "au_mask": bool(self.masks["au"][i]),
            "video": "synthetic", "frame": i,
        }
        if self.audio:
            item["audio"] = torch.full((1, 64, 32), float(self.va[i, 1]))
        return item
