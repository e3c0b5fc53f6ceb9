"""Image tensors for the networks: uint8 crops -> normalised float, and augmentation on tensors
(horizontal flip, random resized crop, colour jitter), per sample or on whole batches (GPU-friendly:
``prepare_images`` turns a uint8 batch already on the GPU into the network's input there)."""
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


_CONSTANTS: dict[tuple[tuple[float, ...], torch.device, torch.dtype], torch.Tensor] = {}


def _const(values: tuple[float, ...], device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A small constant tensor on ``device``, copied there once: a copy from pageable memory to a GPU
    waits for the GPU's queue to drain, which would stall every training step."""
    key = (values, device, dtype)
    if key not in _CONSTANTS:
        _CONSTANTS[key] = torch.tensor(values, dtype=dtype).to(device)
    return _CONSTANTS[key]


def normalise(x: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) in [0, 1] -> minus IMAGE_MEAN, over IMAGE_STD."""
    mean = _const(IMAGE_MEAN, x.device, x.dtype).view(3, 1, 1)
    std = _const(IMAGE_STD, x.device, x.dtype).view(3, 1, 1)
    return (x - mean) / std


def prepare_images(images: torch.Tensor, augment: "Augment | None" = None, face: torch.Tensor | None = None,
                   channels_last: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
    """The device side of the uint8 path: crops (B, H, W, 3) or windows (B, T, H, W, 3) uint8, already on
    the training device -> normalised float (B, 3, H, W) / (B, T, 3, H, W), augmented per sample with
    batched tensor ops (a window shares one draw); window frames whose ``face`` is False become zeros,
    as the per-item path gives them."""
    x = to_float(images)
    if augment is not None:
        x = augment(x, batched=True, generator=generator)
    x = normalise(x)
    if face is not None:
        x = x * face.to(x.dtype).view(*face.shape, 1, 1, 1)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


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
        dev = flat.device
        # all draws at once, made where the generator lives (the device's own when none is given)
        where = generator.device if generator is not None else dev
        draws = torch.rand(8, b, generator=generator, device=where).to(dev)

        def uniform(k: int, lo: float, hi: float) -> torch.Tensor:
            return draws[k] * (hi - lo) + lo

        # Geometry: an affine sampling grid per sample (crop half-sizes sx, sy; centre tx, ty; flip sign).
        area = uniform(0, *self.scale)
        aspect = torch.exp(uniform(1, math.log(self.ratio[0]), math.log(self.ratio[1])))
        sx = torch.sqrt(area * aspect).clamp(max=1.0)
        sy = torch.sqrt(area / aspect).clamp(max=1.0)
        tx = uniform(2, -1, 1) * (1 - sx)
        ty = uniform(3, -1, 1) * (1 - sy)
        sign = torch.where(draws[4] < self.flip, -1.0, 1.0)
        theta = torch.zeros(b, 2, 3, device=dev)
        theta[:, 0, 0], theta[:, 0, 2] = sx * sign, tx
        theta[:, 1, 1], theta[:, 1, 2] = sy, ty
        theta = (theta.repeat_interleave(t, dim=0) if t > 1 else theta).to(flat.dtype)
        grid = F.affine_grid(theta, list(flat.shape), align_corners=False)
        out = F.grid_sample(flat, grid, mode="bilinear", padding_mode="border", align_corners=False)

        # Colour: brightness b, contrast c (about the mean grey m), saturation s (about each pixel's grey).
        # All three compose to one affine map per sample: y = b*c*S x + b*(1-c)*m, S = s*I + (1-s)*1 w^T.
        w = _const((0.299, 0.587, 0.114), dev, flat.dtype)
        bright, contr, sat = (uniform(5 + k, 1 - a, 1 + a).to(flat.dtype)
                              for k, a in enumerate((self.brightness, self.contrast, self.saturation)))
        eye = torch.eye(3, dtype=flat.dtype, device=dev)
        sat_m = sat.view(b, 1, 1) * eye + (1 - sat).view(b, 1, 1) * w.view(1, 1, 3)
        mat = (bright * contr).view(b, 1, 1) * sat_m
        grey_mean = torch.einsum("c,nc->n", w, out.mean((2, 3))).view(b, t)  # mean grey per frame
        offset = (bright * (1 - contr)).view(b, 1) * grey_mean
        mat = mat.repeat_interleave(t, dim=0) if t > 1 else mat
        out = torch.einsum("nij,njhw->nihw", mat, out) + offset.reshape(b * t, 1, 1, 1)
        return out.clamp_(0.0, 1.0).reshape(x.shape)
