"""Training items from an image dataset cache (core.imagedata): one face crop per item, or a whole batch
in one gather from the memory-mapped uint8 crops (the path that feeds a GPU).

Labels come in the run's label spaces: expressions through core.labels' one mapping table (a class
without a counterpart is unlabelled, and said in ``notes``), AUs by name (AUs the dataset lacks are
unlabelled). Items and batches have the keys of core.data.datasets' FaceFrames.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..imagedata import ImageDataset
from ..labels import AU_MISSING, EXPR_MISSING, TASKS, expression_mapping
from .augment import Augment, crop_to_input, normalise, to_float


class ImageFrames(Dataset):
    """Crops of ``split`` ('train', 'val', 'test'; None = all) of an image dataset.

    ``expressions``: the run's classes (default the dataset's own); ``au_names``: the run's AUs (default
    the dataset's). ``raw`` (default): 'image' is the uint8 (112, 112, 3) crop, left for
    ``augment.prepare_images`` on the training device; else normalised float (3, 112, 112), augmented per
    item with ``augment``. With ``require_labels`` only crops labelled for one of ``tasks`` are items."""

    def __init__(self, dataset: ImageDataset | str | Path, split: str | None = "train",
                 tasks: Iterable[str] = TASKS, *, expressions: Sequence[str] | None = None,
                 au_names: Sequence[str] | None = None, raw: bool = True, augment: Augment | bool | None = None,
                 require_labels: bool = True) -> None:
        self.data = dataset if isinstance(dataset, ImageDataset) else ImageDataset(dataset)
        self.tasks = tuple(tasks)
        self.raw = raw
        self.augment = Augment() if augment is True else (augment or None)
        self.expressions = tuple(expressions) if expressions is not None else self.data.expr_classes
        self.au_names = tuple(au_names) if au_names is not None else self.data.au_names
        self.skipped: dict[str, str] = {}
        self.notes: list[str] = []
        rows = self.data.rows(split)
        d = self.data
        n = len(rows)
        self.va = np.zeros((n, 2), np.float32)
        self.va_mask = np.zeros(n, bool)
        if "va" in self.tasks and d.has_va:
            va = d.va[rows]
            self.va_mask = np.isfinite(va).all(1)
            self.va[self.va_mask] = va[self.va_mask]
        self.expr = np.full(n, EXPR_MISSING, np.int64)
        if "expr" in self.tasks:
            mapping = expression_mapping(d.expr_classes, self.expressions)
            self.expr = mapping.apply(d.expr[rows])
            if not mapping.identity:
                self.notes.append(f"{d.name}: expressions {d.expr_space} -> the run's classes: {mapping.describe()}"
                                  + (" (those images' expressions are left unlabelled)" if mapping.unmatched_source
                                     else ""))
        self.expr_mask = self.expr != EXPR_MISSING
        k = len(self.au_names)
        self.au = np.full((n, k), AU_MISSING, np.float32)
        if "au" in self.tasks and k:
            have = {a: j for j, a in enumerate(d.au_names)}
            for j, a in enumerate(self.au_names):
                if a in have:
                    self.au[:, j] = d.au[rows, have[a]]
            missing = [a for a in self.au_names if a not in have]
            if missing and len(missing) < k:
                self.notes.append(f"{d.name}: no labels for {', '.join(missing)}: its AU labels are not used")
        self.au_mask = (self.au != AU_MISSING).all(1) if k else np.zeros(n, bool)
        keep = np.ones(n, bool)
        if require_labels:
            keep = self.va_mask | self.expr_mask | self.au_mask
        self.rows = rows[keep]
        for name in ("va", "va_mask", "expr", "expr_mask", "au", "au_mask"):
            setattr(self, name, getattr(self, name)[keep])
        if require_labels and n and not len(self.rows):
            self.skipped[d.name] = f"no crop in split {split!r} labelled for {', '.join(self.tasks)}"

    def __len__(self) -> int:
        return len(self.rows)

    def _image(self, crop: np.ndarray) -> torch.Tensor:
        if self.raw:
            return torch.from_numpy(np.ascontiguousarray(crop))
        if self.augment is None:
            return crop_to_input(crop)
        return normalise(self.augment(to_float(torch.from_numpy(np.ascontiguousarray(crop)))))

    def __getitem__(self, k: int) -> dict[str, Any]:
        return {"image": self._image(self.data.take([self.rows[k]])[0]),
                "va": torch.from_numpy(self.va[k]), "va_mask": bool(self.va_mask[k]),
                "expr": int(self.expr[k]), "expr_mask": bool(self.expr_mask[k]),
                "au": torch.from_numpy(self.au[k]), "au_mask": bool(self.au_mask[k]),
                "video": self.data.name, "frame": int(self.rows[k])}

    def get_batch(self, indices: Sequence[int]) -> dict[str, Any]:
        """The batch of these items in one gather: what ``collate_batch`` of the items would give."""
        k = np.asarray(indices, np.int64)
        crops = self.data.take(self.rows[k])
        if self.raw:
            image = torch.from_numpy(crops)
        else:
            image = torch.stack([self._image(c) for c in crops])
        return {"image": image, "va": torch.from_numpy(self.va[k]), "va_mask": torch.from_numpy(self.va_mask[k]),
                "expr": torch.from_numpy(self.expr[k]), "expr_mask": torch.from_numpy(self.expr_mask[k]),
                "au": torch.from_numpy(self.au[k]), "au_mask": torch.from_numpy(self.au_mask[k]),
                "video": [self.data.name] * len(k), "frame": torch.from_numpy(self.rows[k])}

    def close(self) -> None:
        self.data.close()
