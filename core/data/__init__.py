"""Training data: datasets over face caches + label tracks, splits, log-mel audio, augmentation, loaders.

``import core.data`` stays free of torch: the torch-based names load on first use.
"""
from __future__ import annotations

import importlib
from typing import Any

from .splits import SPLITS, assign_splits, group_of, normalise_split, source_video, time_blocks, videos_in_split
from .targets import Targets, targets_from_track

_LAZY = {
    "FaceFrames": "datasets", "FaceWindows": "datasets", "VideoData": "datasets", "face_dataset": "datasets",
    "Augment": "augment", "IMAGE_MEAN": "augment", "IMAGE_STD": "augment", "normalise": "augment",
    "to_float": "augment", "AudioWindows": "logmel", "log_mel": "logmel", "mel_filterbank": "logmel",
    "make_loader": "loader", "default_workers": "loader", "collate_batch": "loader",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SPLITS", "Targets", "assign_splits", "group_of", "normalise_split", "source_video",
           "targets_from_track", "time_blocks", "videos_in_split", *_LAZY]
