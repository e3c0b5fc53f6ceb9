"""What feeds the training loop: the batch size for the preset and device, the loader workers, and the
loaders themselves: whole-batch fetching for datasets that can (uint8 crops, augmented on the device by
core.data.augment.prepare_images) or the per-item DataLoader otherwise."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset

from ..data.batches import batch_loader, fetches_batches
from ..data.loader import collate_batch, default_workers, worker_options
from .config import TrainConfig
from .ddp import DistInfo
from .presets import Preset

FRAMES_PER_STEP_GPU = 512  # ResNet-50 at 112x112 keeps an H100 busy from about here; more adds little
FRAMES_PER_STEP_CPU = 32
# Training memory per frame at 112x112 with bf16 autocast (activations and their gradients), in MiB.
MIB_PER_FRAME = {"vgg16": 40, "resnet50": 20, "resnet18": 8, "mobilenetv2": 12, "tiny": 1}
BATCH_WORKERS_MAX = 4  # whole-batch fetching needs few processes; each holds prefetched batches in /dev/shm


def auto_batch_size(preset: Preset, device: torch.device) -> int:
    """Samples per step for a preset on a device: FRAMES_PER_STEP frames (windows count their frames),
    on a GPU the largest power of two that also fits half of its memory."""
    frames = FRAMES_PER_STEP_CPU
    if device.type == "cuda":
        total = torch.cuda.get_device_properties(device).total_memory / 2**20
        fit = total * 0.5 / (MIB_PER_FRAME.get(preset.backbone, 20) * (2 if preset.audio else 1))
        frames = min(FRAMES_PER_STEP_GPU, 1 << max(3, int(fit).bit_length() - 1))
    return max(2, frames // preset.window)


def loader_workers(requested: int, cuda: bool, batched: bool) -> int:
    """``requested`` when >= 0; else one per spare core on CUDA (at most BATCH_WORKERS_MAX when whole
    batches are fetched), none on the CPU (the training process is the bottleneck there)."""
    if requested >= 0:
        return requested
    if not cuda:
        return 0
    return min(BATCH_WORKERS_MAX, default_workers()) if batched else default_workers()


@dataclass
class Feed:
    sampler: DistributedSampler
    train: DataLoader
    val: DataLoader | None
    workers: int
    batched: bool  # whole batches fetched (get_batch) rather than items collated


def build_feed(train_set: Dataset, val_set: Dataset | None, cfg: TrainConfig, dist: DistInfo,
               cuda: bool) -> Feed:
    """Loaders for a run: a seeded DistributedSampler (also without DDP: resumed runs repeat the order),
    pinned memory on CUDA, validation sharded over the ranks."""
    sampler: DistributedSampler = DistributedSampler(train_set, num_replicas=dist.world, rank=dist.rank,
                                                     shuffle=True, seed=cfg.seed)
    batched = fetches_batches(train_set)
    workers = loader_workers(cfg.num_workers, cuda, batched)
    drop_last = len(sampler) > cfg.batch_size
    val: DataLoader | None = None
    n_val = len(val_set) if val_set is not None else 0  # type: ignore[arg-type]
    shard = range(dist.rank, n_val, dist.world)
    if batched:
        train = batch_loader(train_set, sampler, cfg.batch_size, drop_last, workers, cuda)
        if n_val and fetches_batches(val_set):
            val = batch_loader(val_set, shard, cfg.batch_size * 2, False, workers, cuda)
    else:
        kw: dict[str, Any] = {**worker_options(workers), "pin_memory": cuda, "collate_fn": collate_batch}
        train = DataLoader(train_set, batch_size=cfg.batch_size, sampler=sampler, drop_last=drop_last, **kw)
    if n_val and val is None:
        kw = {**worker_options(workers), "pin_memory": cuda, "collate_fn": collate_batch}
        val = DataLoader(Subset(val_set, shard), batch_size=cfg.batch_size * 2, shuffle=False, **kw)  # type: ignore[arg-type]
    return Feed(sampler, train, val, workers, batched)
