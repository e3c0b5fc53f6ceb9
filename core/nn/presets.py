"""Named model presets (after Kollias & Zafeiriou, BMVC 2019) plus light ones for CPUs.

This module imports no torch at import time: ``PRESETS`` can be listed by the GUI and the CLI cheaply.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..errors import AffectTraceError

if TYPE_CHECKING:
    from torch import nn

    from .multitask import MultiTaskNet


@dataclass(frozen=True)
class Preset:
    name: str
    backbone: str  # vgg16 | resnet50 | resnet18 | mobilenetv2 | tiny
    arcface: bool = False
    temporal: bool = False  # CNN-RNN: a window of frames through a 2-layer GRU
    audio: bool = False  # log-mel CNN fused with the visual features
    window: int = 1  # frames per sample for temporal presets
    cpu: bool = False  # light enough to train on a CPU
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("mt-vgg", "vgg16", description="MT-VGG: VGG-16 (VGG-FACE layout), three heads"),
    Preset("mt-resnet", "resnet50", description="MT-ResNet: ResNet-50, three heads"),
    Preset("mt-arcvgg", "vgg16", arcface=True, description="MT-ArcVGG: VGG-16 with an ArcFace expression head"),
    Preset("mt-arcres", "resnet50", arcface=True, description="MT-ArcRes: ResNet-50 with an ArcFace expression head"),
    Preset("mt-resnet-gru", "resnet50", temporal=True, window=8,
           description="CNN-RNN: ResNet-50 per frame, 2-layer GRU over 8 frames"),
    Preset("mt-resnet-gru-av", "resnet50", temporal=True, audio=True, window=8,
           description="CNN-RNN with audio: ResNet-50 + log-mel CNN per frame, 2-layer GRU over 8 frames"),
    Preset("mt-resnet18", "resnet18", description="ResNet-18, three heads (mid-size)"),
    Preset("mt-mobile", "mobilenetv2", cpu=True, description="MobileNetV2-style backbone for CPUs"),
    Preset("mt-tiny", "tiny", cpu=True, description="tiny 6-convolution CNN: trains in minutes on a CPU"),
    Preset("mt-tiny-arc", "tiny", arcface=True, cpu=True, description="tiny CNN with an ArcFace expression head"),
    Preset("mt-tiny-gru-av", "tiny", temporal=True, audio=True, window=4, cpu=True,
           description="tiny CNN + log-mel CNN, 2-layer GRU over 4 frames"),
)}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise AffectTraceError(f"unknown model preset {name!r}; choose one of {', '.join(PRESETS)}") from None


def build_backbone(name: str) -> "nn.Module":
    if name == "vgg16":
        from .vgg import VGG16
        return VGG16()
    if name in ("resnet50", "resnet18"):
        from . import resnet
        return getattr(resnet, name)()
    if name == "mobilenetv2":
        from .mobile import MobileNetV2
        return MobileNetV2()
    if name == "tiny":
        from .tiny import TinyCNN
        return TinyCNN()
    raise AffectTraceError(f"unknown backbone {name!r}")


def build_model(preset: str | Preset, n_expr: int = 8, n_au: int = 12, arc_s: float = 64.0,
                arc_m: float = 0.5) -> "MultiTaskNet":
    """A freshly initialised multi-task network for a preset and label spaces."""
    from .multitask import MultiTaskNet

    p = preset if isinstance(preset, Preset) else get_preset(preset)
    return MultiTaskNet(build_backbone(p.backbone), n_expr, n_au, temporal=p.temporal, audio=p.audio,
                        arcface={"s": arc_s, "m": arc_m} if p.arcface else None)


def parameter_counts(preset: str | Preset, n_expr: int = 8, n_au: int = 12) -> dict[str, int]:
    """Parameters of the whole network and of its backbone, counted on the meta device (no memory)."""
    import torch

    with torch.device("meta"):
        model = build_model(preset, n_expr, n_au)
    total = sum(p.numel() for p in model.parameters())
    backbone = sum(p.numel() for p in model.backbone.parameters())
    return {"total": total, "backbone": backbone}
