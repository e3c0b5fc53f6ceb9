"""What a weights file holds, found by loading it safely (``torch.load(weights_only=True)``: tensors and
plain values only, never code). Used by ``affecttrace weights`` before a file is installed."""
from __future__ import annotations

from pathlib import Path

import torch

from ..weights import WeightsError
from .checkpoint import FORMAT


def _tensors(obj: object) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _tensors(v)]
    return []


def describe(path: str | Path) -> str:
    """One line on what ``path`` is, or WeightsError when it is not loadable weights."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else ""
        raise WeightsError(f"not loadable as weights ({type(e).__name__}{': ' + first if first else ''})",
                           path) from None
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        model = obj.get("model")
        tensors = _tensors(model)
        if not tensors:
            raise WeightsError("an AffectTrace checkpoint without model weights", path)
        labels = obj.get("labels") or {}
        return (f"AffectTrace checkpoint: preset {obj.get('preset')}, {len(labels.get('expressions', []))} "
                f"expressions, {len(labels.get('aus', []))} AUs, epoch {obj.get('epoch')}, "
                f"{sum(t.numel() for t in tensors):,} weights")
    tensors = _tensors(obj)
    if not isinstance(obj, dict) or not tensors:
        raise WeightsError(f"holds {type(obj).__name__}, not a state dict of tensors", path)
    return f"state dict: {len(tensors)} tensors, {sum(t.numel() for t in tensors):,} weights"
