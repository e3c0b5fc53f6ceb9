"""Initialise a backbone from a local weights file and report what matched; nothing is downloaded.

Accepted layouts: torchvision ResNet state dicts (``conv1.weight``, ``layer1.0...``), torchvision VGG-16
(``features.N.weight``), the VGG-FACE torch conversion (``conv1_1.weight``), any of those wrapped in
``{'state_dict': ...}`` / ``{'model': ...}`` or prefixed with ``module.`` / ``backbone.``, and
AffectTrace checkpoints (their backbone part).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..errors import CheckpointError
from .torchload import load_tensors
from .vgg import CONV_NAMES, TORCHVISION_CONV_INDEX

_TV_VGG = {f"features.{i}": name for i, name in zip(TORCHVISION_CONV_INDEX, CONV_NAMES)}


@dataclass
class PretrainedReport:
    path: str
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # backbone keys the file did not provide
    unexpected: list[str] = field(default_factory=list)  # file keys the backbone has no use for
    mismatched: list[str] = field(default_factory=list)  # same name, other shape

    def summary(self) -> str:
        return (f"{self.path}: {len(self.matched)} tensors loaded, {len(self.missing)} missing, "
                f"{len(self.unexpected)} unexpected, {len(self.mismatched)} with another shape")

    def to_dict(self) -> dict:
        return {"path": self.path, "matched": len(self.matched), "missing": self.missing,
                "unexpected": self.unexpected, "mismatched": self.mismatched}


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict) and obj.get("format") == "affecttrace-checkpoint":
        return {k[len("backbone."):]: v for k, v in obj["model"].items() if k.startswith("backbone.")}
    for key in ("state_dict", "model", "model_state_dict", "net"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError("not a state dict of tensors (torchvision, VGG-FACE or AffectTrace weights)", path)
    out: dict[str, torch.Tensor] = {}
    for k, v in obj.items():
        for prefix in ("module.", "backbone.", "model."):
            if k.startswith(prefix):
                k = k[len(prefix):]
        out[k] = v
    return out


def _rename(key: str) -> str:
    stem, _, leaf = key.rpartition(".")
    return f"{_TV_VGG[stem]}.{leaf}" if stem in _TV_VGG else key


def load_pretrained(backbone: nn.Module, path: str | Path) -> PretrainedReport:
    """Copy every tensor of ``path`` whose (renamed) key and shape fit ``backbone``; report the rest."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError("pretrained weights file not found (nothing is downloaded: place the file there)",
                              path)
    obj = load_tensors(path, "weights")
    target = backbone.state_dict()
    # torchvision VGG names (features.N) only mean VGG-FACE names for a VGG target: MobileNet and the
    # tiny CNN have features.N of their own
    source = {(k if k in target else _rename(k)): v for k, v in _unwrap(obj, path).items()}
    report = PretrainedReport(str(path))
    load: dict[str, torch.Tensor] = {}
    for k, v in source.items():
        if k not in target:
            report.unexpected.append(k)
        elif tuple(target[k].shape) != tuple(v.shape):
            report.mismatched.append(f"{k} {tuple(v.shape)} vs {tuple(target[k].shape)}")
        else:
            load[k] = v
            report.matched.append(k)
    report.missing = [k for k in target if k not in load and not k.endswith("num_batches_tracked")]
    if not load:
        raise CheckpointError(f"no tensor fits the backbone ({len(source)} in the file, e.g. "
                              f"{', '.join(list(source)[:3])})", path)
    backbone.load_state_dict(load, strict=False)
    return report
