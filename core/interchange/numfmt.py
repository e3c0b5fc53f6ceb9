"""Number spellings of label files, detected per column so a written file matches the one read.

A column's style is one of: ``int`` ("3", "-1"), ``fixed:N`` (N decimals, "0.350"), ``short``
(numpy's shortest float32 text, "0.35", "1.0", "1e-05") or ``short-`` (the same without a
trailing ".0", "1"). Formatting is vectorised: files of 50 000 lines are common.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

import numpy as np

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
DEFAULT_FLOAT = "short"
DEFAULT_INT = "int"
_SAMPLE = 2000


def format_column(values: np.ndarray, style: str) -> list[str]:
    """Spell every value of a 1-D array in ``style``; NaN must not occur (callers put sentinels)."""
    return spell_column(values, style).tolist()


def spell_column(values: np.ndarray, style: str) -> np.ndarray:
    """``format_column`` as an object array of str (for element-wise comparison with tokens)."""
    v = np.asarray(values).reshape(-1)
    if style == "int":
        iv = v.astype(np.int64)
        if iv.size and int(iv.max()) - int(iv.min()) < 4096:  # labels: a few small ints, spelled by lookup
            lo = int(iv.min())
            table = np.array([str(x) for x in range(lo, int(iv.max()) + 1)], dtype=object)
            return table[iv - lo]
        return iv.astype(str).astype(object)
    if style.startswith("fixed:"):
        spec = f"%.{int(style[6:])}f"
        return np.array([spec % x for x in v.astype(np.float64).tolist()], dtype=object)
    if style in ("short", "short-"):
        out = v.astype(np.float32).astype(str).tolist()
        return np.array(out if style == "short" else [s[:-2] if s.endswith(".0") else s for s in out], dtype=object)
    raise ValueError(f"unknown number style {style!r}")


def format_number(value: float, style: str) -> str:
    return format_column(np.array([value]), style)[0]


def _candidates(tokens: Sequence[str]) -> list[str]:
    joined = "".join(tokens)
    if "." not in joined and "e" not in joined and "E" not in joined:  # integers only (labels mostly are)
        return ["int", "short", "short-"]
    decimals = Counter(len(t.split(".", 1)[1]) if "." in t else -1 for t in tokens if "e" not in t.lower())
    styles = []
    if decimals and decimals.get(-1, 0) == sum(decimals.values()):
        styles.append("int")
    styles += [f"fixed:{d}" for d, _ in decimals.most_common(3) if d >= 0]
    return styles + ["short", "short-"]


def detect_style(tokens: np.ndarray, values: np.ndarray, default: str = DEFAULT_FLOAT) -> str:
    """The style that spells the most of ``tokens`` exactly from their parsed ``values`` (a sample)."""
    if not len(tokens):
        return default
    step = max(1, len(tokens) // _SAMPLE)
    toks = np.asarray(tokens)[::step].tolist()
    vals = np.asarray(values)[::step]
    best, best_hits = default, -1
    for style in _candidates(toks):
        hits = int((spell_column(vals, style) == np.array(toks, dtype=object)).sum())
        if hits == len(toks):  # spells every sampled token: no other style can do better
            return style
        if hits > best_hits:
            best, best_hits = style, hits
    return best
