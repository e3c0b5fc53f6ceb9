"""DataLoaders that keep up with a GPU: preloaded uint8 crops, worker processes, pinned memory."""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .workers import die_with_parent, worker_context


def collate_batch(items: list[dict[str, Any]]) -> dict[str, Any]:
    """default_collate for core.data items, stacking tensors with numpy: the same batch, but a busy
    machine's torch thread pool no longer turns a 10 MB stack into a 20x slower parallel copy."""
    out: dict[str, Any] = {}
    for key in items[0]:
        values = [it[key] for it in items]
        first = values[0]
        if isinstance(first, torch.Tensor):
            out[key] = torch.from_numpy(np.stack([v.numpy() for v in values]))
        elif isinstance(first, bool):
            out[key] = torch.tensor(values, dtype=torch.bool)
        elif isinstance(first, int):
            out[key] = torch.tensor(values, dtype=torch.int64)
        elif isinstance(first, float):
            out[key] = torch.tensor(values, dtype=torch.float64)
        else:
            out[key] = values
    return out


def default_workers() -> int:
    """Loader worker processes: leave one core to the training process, at most 8."""
    return max(0, min(8, (os.cpu_count() or 1) - 1))


LOADER_PRELOAD = ("core.data.datasets", "core.data.images")  # what loader workers unpickle their datasets with


def worker_options(workers: int) -> dict[str, Any]:
    """DataLoader options for ``workers`` processes: started without fork (core.data.workers), persistent,
    each dying with this process; none for 0 (batches made in this process)."""
    if workers <= 0:
        return {"num_workers": 0}
    return {"num_workers": workers, "persistent_workers": True,
            "multiprocessing_context": worker_context(LOADER_PRELOAD), "worker_init_fn": die_with_parent}


def make_loader(dataset: Dataset, batch_size: int = 64, shuffle: bool = True, workers: int | None = None,
                device: str | torch.device | None = None, drop_last: bool = False, seed: int = 0,
                **kw: Any) -> DataLoader:
    """A DataLoader over a core.data dataset: ``workers`` processes (default_workers() when None; see
    worker_options), pinned memory when the batches go to CUDA, a seeded shuffle, collate_batch."""
    workers = default_workers() if workers is None else workers
    cuda = device is not None and torch.device(device).type == "cuda"
    opts: dict[str, Any] = {**worker_options(workers), "pin_memory": cuda, "drop_last": drop_last,
                            "collate_fn": collate_batch}
    if workers > 0:
        opts["prefetch_factor"] = 4
    opts.update(kw)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                      generator=torch.Generator().manual_seed(seed) if shuffle else None, **opts)
