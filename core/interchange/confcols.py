"""The confidence columns a model track adds to the tidy CSV table (core.interchange.csvio).

``p_<Expression>`` for each of the 8 classes (EXPR probabilities), ``p_<AU>`` for each AU of the
track (AU probabilities) and ``valence_std``, ``arousal_std`` (the VA uncertainty of
core.nn.uncertainty). Empty cells: no prediction. Tracks without these arrays leave the cells empty,
and a table with no model track has none of the columns.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..labels import EXPRESSIONS, VA_NAMES
from ..tracks import Track

PROB_PREFIX = "p_"
STD_COLUMNS: tuple[str, str] = tuple(f"{n}_std" for n in VA_NAMES)  # type: ignore[assignment]


def confidence_columns(au_names: tuple[str, ...]) -> list[str]:
    """Every confidence column for an AU set, in table order."""
    return ([PROB_PREFIX + e for e in EXPRESSIONS] + [PROB_PREFIX + a for a in au_names] + list(STD_COLUMNS))


def is_confidence_column(name: str, au_names: tuple[str, ...]) -> bool:
    return name in confidence_columns(au_names)


def track_confidence(track: Track) -> dict[str, np.ndarray]:
    """The confidence columns a track has (none for a track without probabilities or spread)."""
    out: dict[str, np.ndarray] = {}
    if track.expr_prob is not None:
        for j, e in enumerate(EXPRESSIONS[: track.expr_prob.shape[1]]):
            out[PROB_PREFIX + e] = track.expr_prob[:, j]
    if track.au_prob is not None:
        for j, a in enumerate(track.au_names):
            out[PROB_PREFIX + a] = track.au_prob[:, j]
    if track.va_std is not None:
        for d, c in enumerate(STD_COLUMNS):
            out[c] = track.va_std[:, d]
    return out


def read_confidence(df: pd.DataFrame, columns: list[str], problems: list[str]) -> pd.DataFrame:
    """Parse confidence columns of a string table: numbers, probabilities in [0, 1], spreads >= 0;
    empty cells become NaN. Problems name their line."""
    out = pd.DataFrame(index=df.index)
    for c in columns:
        raw = df[c]
        v = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
        bad_text = v.isna() & (raw.str.strip() != "")
        hi = 1.0 if c.startswith(PROB_PREFIX) else np.inf
        bad_range = (v < 0) | (v > hi)
        for i in np.flatnonzero(bad_text | bad_range):
            want = "a probability in [0, 1]" if hi == 1.0 else "a spread >= 0"
            problems.append(f"line {i + 2}: {c} {raw.iat[i]!r} is not {want}")
        out[c] = v.to_numpy(np.float32)
    return out


def apply_confidence(track: Track, frames: np.ndarray, table: pd.DataFrame, columns: list[str],
                     replace: bool = False) -> None:
    """Write the given confidence columns of ``table`` rows into ``track`` at ``frames``. As for labels
    (core.interchange.csvio), an empty cell keeps the track's value unless ``replace``. A track that lacks
    an array gets one (unset elsewhere) only when its rows give a value for it: human rows leave it None."""
    n = track.n_frames
    given = [c for c in columns if np.isfinite(table[c].to_numpy(np.float64)).any()]
    have = set(track_confidence(track))
    columns = [c for c in columns if c in given or c in have]
    expr = [c for c in columns if c[len(PROB_PREFIX):] in EXPRESSIONS and c.startswith(PROB_PREFIX)]
    aus = [c for c in columns if c[len(PROB_PREFIX):] in track.au_names and c.startswith(PROB_PREFIX)]
    std = [c for c in columns if c in STD_COLUMNS]
    if expr:
        if track.expr_prob is None:
            track.expr_prob = np.full((n, len(EXPRESSIONS)), np.nan, np.float32)
        for c in expr:
            _put(track.expr_prob, frames, EXPRESSIONS.index(c[len(PROB_PREFIX):]), table[c].to_numpy(), replace)
    if aus:
        if track.au_prob is None:
            track.au_prob = np.full((n, len(track.au_names)), np.nan, np.float32)
        for c in aus:
            _put(track.au_prob, frames, track.au_names.index(c[len(PROB_PREFIX):]), table[c].to_numpy(), replace)
    if std:
        if track.va_std is None:
            track.va_std = np.full((n, 2), np.nan, np.float32)
        for c in std:
            _put(track.va_std, frames, STD_COLUMNS.index(c), table[c].to_numpy(), replace)


def _put(array: np.ndarray, frames: np.ndarray, column: int, values: np.ndarray, replace: bool) -> None:
    given = np.ones(len(values), bool) if replace else np.isfinite(values)
    array[frames[given], column] = values[given]
