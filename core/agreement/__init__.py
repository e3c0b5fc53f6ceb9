"""Annotator agreement, fusion into a gold standard, and reaction-lag compensation.

Array level (numpy): ``stats`` (ICC, Cronbach, Krippendorff, Cohen, Fleiss), ``fusion`` (mean, EWE,
majority vote), ``lag`` (estimate_lags, shift). Project level: ``report`` (agreement tables of a
project) and ``fuse`` (fused tracks written back with their recipe; the one fusion path of the CLI and
the app). ``defaults`` holds the commands' defaults. The names below load on first use, so reading a
default (the CLI does when it starts) does not import numpy.
"""
from __future__ import annotations

import importlib
from typing import Any

from .defaults import DEFAULT_MAX_LAG_S

_WHERE = {
    "ewe_fusion": "fusion", "ewe_weights": "fusion", "majority_vote": "fusion", "mean_fusion": "fusion",
    "LagEstimate": "lag", "best_lag": "lag", "estimate_lags": "lag", "shift": "lag",
    "cohen_kappa": "stats", "cronbach_alpha": "stats", "fleiss_kappa": "stats", "icc": "stats",
    "krippendorff_alpha": "stats", "pairwise": "stats",
}

__all__ = ["DEFAULT_MAX_LAG_S", *sorted(_WHERE)]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'core.agreement' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
