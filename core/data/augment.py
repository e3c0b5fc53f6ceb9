"""Image tensors for the networks: uint8 crops -> normalised float, and augmentation on tensors
(horizontal flip, random resized crop, colour jitter), per sample or on whole batches (GPU-friendly)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

# ImageNet statistics: what torchvision-style pretrained backbones expect.
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)


def to_float(crops: torch.Tensor) -> torch.Tensor:
    """(..., H, W, 3) uint8 RGB -> (..., 3, H, W) float32 in [0, 1]."""
    return crops.movedim(-1, -3).float().div_(255.0)


_SCALE = (1.0 / (255.0 * np.array(IMAGE_STD))).astype(np.float32)
_OFFSET = (-np.array(IMAGE_MEAN) / np.array(IMAGE_STD)).astype(np.float32)


def crop_to_input(crop: np.ndarray) -> torch.Tensor:
    """(..., H, W, 3) uint8 crops -> (..., 3, H, W) normalised float32, in one numpy pass (per-item
    loading: numpy stays on one thread, where torch's small ops would wake its thread pool for each)."""
    x = crop.astype(np.float32) * _SCALE + _OFFSET
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, -3)))


def normalise(x: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) in [0, 1] -> minus IMAGE_MEAN, over IMAGE_STD."""
    shape = (3, 1, 1)
    mean = torch.tensor(IMAGE_MEAN, dtype=x.dtype, device=x.device).view(shape)
    std = torch.tensor(IMAGE_STD, dtype=x.dtype, device=x.device).view(shape)
    return (x - mean) / std


@dataclass
class Augment:
    """Random flip, resized crop and colour jitter. Call on (3, H, W), (T, 3, H, W) (one draw shared by
    the window, so a sequence stays coherent), or batches (B, 3, H, W) / (B, T, 3, H, W) with
    ``batched=True`` (one draw per sample). Input and output in [0, 1], same shape."""

    flip: float = 0.5
    scale: tuple[float, float] = (0.75, 1.0)  # area kept by the crop
    ratio: tuple[float, float] = (0.9, 1.1)  # crop aspect
    brightness: float = 0.25
    contrast: float = 0.25
    saturation: float = 0.25

    def __call__(self, x: torch.Tensor, batched: bool = False,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        if not batched:
            return self(x.unsqueeze(0), batched=True, generator=generator).squeeze(0)
        b = x.shape[0]
        seq = x.dim() == 5
        t = x.shape[1] if seq else 1
        flat = x.reshape(b * t, *x.shape[-3:])
        g = generator
        dev = flat.device

        def uniform(lo: float, hi: float) -> torch.Tensor:
            return (torch.rand(b, generator=g) * (hi - lo) + lo).to(dev)

        # Geometry: an affine sampling grid per sample (crop half-sizes sx, sy; centre tx, ty; flip sign).
        area = uniform(*self.scale)
        aspect = torch.exp(uniform(math.log(self.ratio[0]), math.log(self.ratio[1])))
        sx = torch.sqrt(area * aspect).clamp(max=1.0)
        sy = torch.sqrt(area / aspect).clamp(max=1.0)
        tx = (torch.rand(b, generator=g).to(dev) * 2 - 1) * (1 - sx)
        ty = (torch.rand(b, generator=g).to(dev) * 2 - 1) * (1 - sy)
        sign = torch.where(torch.rand(b, generator=g).to(dev) < self.flip, -1.0, 1.0)
        theta = torch.zeros(b, 2, 3, device=dev)
        theta[:, 0, 0], theta[:, 0, 2] = sx * sign, tx
        theta[:, 1, 1], theta[:, 1, 2] = sy, ty
        theta = theta.repeat_interleave(t, dim=0).to(flat.dtype)
        grid = F.affine_grid(theta, list(flat.shape), align_corners=False)
        out = F.grid_sample(flat, grid, mode="bilinear", padding_mode="border", align_corners=False)

        # Colour: brightness b, contrast c (about the mean grey m), saturation s (about each pixel's grey).
        # All three compose to one affine map per sample: y = b*c*S x + b*(1-c)*m, S = s*I + (1-s)*1 w^T.
        w = torch.tensor([0.299, 0.587, 0.114], dtype=flat.dtype, device=dev)
        bright, contr, sat = (uniform(1 - a, 1 + a).to(flat.dtype) for a in (self.brightness, self.contrast,
                                                                            self.saturation))
        eye = torch.eye(3, dtype=flat.dtype, device=dev)
        sat_m = sat.view(b, 1, 1) * eye + (1 - sat).view(b, 1, 1) * w.view(1, 1, 3)
        mat = (bright * contr).view(b, 1, 1) * sat_m
        grey_mean = torch.einsum("c,nc->n", w, out.mean((2, 3))).view(b, t)  # mean grey per frame
        offset = (bright * (1 - contr)).view(b, 1) * grey_mean
        mat = mat.repeat_interleave(t, dim=0)
        out = torch.einsum("nij,njhw->nihw", mat, out) + offset.reshape(b * t, 1, 1, 1)
        return out.clamp_(0.0, 1.0).reshape(x.shape)
