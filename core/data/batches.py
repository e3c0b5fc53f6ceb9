"""Batch-fetching loaders: the sampler hands a loader worker a whole batch of indices and the dataset
answers with one gather (an image dataset: one read of memory-mapped uint8 crops), so no per-item Python
and no float images cross the CPU; several sources concatenate into one dataset whose batches mix them."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import BatchSampler, ConcatDataset, DataLoader, Dataset, Sampler


def fetches_batches(dataset: Any) -> bool:
    """True for datasets with ``get_batch(indices) -> batch dict`` (FaceFrames, ImageFrames, ConcatFrames)."""
    return callable(getattr(dataset, "get_batch", None))


class BatchView(Dataset):
    """``view[indices]`` is ``dataset.get_batch(indices)``: what a DataLoader with a BatchSampler as its
    sampler and ``batch_size=None`` asks for."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, indices: Sequence[int]) -> dict[str, Any]:
        return self.dataset.get_batch(indices)


def concat_batches(batches: list[dict[str, Any]]) -> dict[str, Any]:
    """Batches with the same keys -> one (tensors concatenated, lists joined)."""
    if len(batches) == 1:
        return batches[0]
    out: dict[str, Any] = {}
    for key in batches[0]:
        values = [b[key] for b in batches]
        out[key] = torch.cat(values) if isinstance(values[0], torch.Tensor) else [x for v in values for x in v]
    return out


class ConcatFrames(ConcatDataset):
    """Several datasets (annotators' labels, a project, image datasets) as one. Items keep their source's
    keys; a batch of indices is fetched from each source at once and the parts concatenated, so shuffled
    batches mix sources. ``skipped``, ``notes`` and ``close`` gather those of the parts."""

    def __init__(self, parts: list[Any]) -> None:
        super().__init__(parts)
        self.parts = parts
        self.skipped = {k: v for p in parts for k, v in getattr(p, "skipped", {}).items()}
        self.notes = [n for p in parts for n in getattr(p, "notes", [])]

    def get_batch(self, indices: Sequence[int]) -> dict[str, Any]:
        idx = np.asarray(indices, np.int64)
        source = np.searchsorted(self.cumulative_sizes, idx, side="right")
        parts = []
        for s in np.unique(source):
            local = idx[source == s] - (self.cumulative_sizes[s - 1] if s else 0)
            part = self.parts[int(s)]
            parts.append(part.get_batch(local.tolist()) if fetches_batches(part)
                         else _collate([part[int(i)] for i in local]))
        return concat_batches(parts)

    def close(self) -> None:
        for p in self.parts:
            if hasattr(p, "close"):
                p.close()


def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    from .loader import collate_batch

    return collate_batch(items)


def batch_loader(dataset: Any, sampler: Sampler[int] | Sequence[int], batch_size: int, drop_last: bool = False,
                 workers: int = 0, pin_memory: bool = False, prefetch: int = 2) -> DataLoader:
    """A DataLoader whose workers fetch whole batches (``dataset.get_batch``) in ``sampler``'s order."""
    from .loader import worker_options

    return DataLoader(BatchView(dataset), sampler=BatchSampler(sampler, batch_size, drop_last), batch_size=None,
                      pin_memory=pin_memory, prefetch_factor=prefetch if workers > 0 else None,
                      **worker_options(workers))
