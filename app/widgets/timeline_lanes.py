"""Pixels of the timeline's lanes (numpy, no Qt widgets): one RGBA pixel per frame and lane row.

Label lanes of a track (VA labelled, expression, each AU or one "any AU" summary row), and the
colours of strips other modules add (values on a colour ramp, or coloured segments).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PySide6.QtGui import QColor

from core.labels import AU_MISSING, EXPR_MISSING
from core.modeltracks import cell_confidence
from core.tracks import Track


def rgba(colour: str, alpha: int = 255) -> np.ndarray:
    c = QColor(colour)
    return np.array([c.red(), c.green(), c.blue(), alpha], np.uint8)


@dataclass(frozen=True)
class LaneColours:
    unlabelled: str
    va_labelled: str
    au_present: str
    au_absent: str
    expressions: tuple[str, ...]


def lane_names(au_names: Sequence[str], au_expanded: bool) -> list[str]:
    return ["VA", "expression"] + (list(au_names) if au_expanded else [f"AUs ({len(au_names)})"])


def paint_label_lanes(img: np.ndarray, track: Track, start: int, stop: int, c: LaneColours,
                      au_expanded: bool) -> None:
    """Fill columns [start, stop) of ``img`` (rows, n, 4) with the track's labels."""
    stop = min(stop, track.n_frames)
    if stop <= start:
        return
    unl = rgba(c.unlabelled)
    va_ok = ~np.isnan(track.va[start:stop]).any(axis=1)
    img[0, start:stop] = np.where(va_ok[:, None], rgba(c.va_labelled), unl)
    e = track.expr[start:stop].astype(np.int16)
    palette = np.stack([rgba(x) for x in c.expressions])
    img[1, start:stop] = np.where((e == EXPR_MISSING)[:, None], unl, palette[np.clip(e, 0, len(palette) - 1)])
    present, absent = rgba(c.au_present), rgba(c.au_absent)
    a = track.au[start:stop]
    if not au_expanded:  # one row: any AU present / all labelled absent / something unlabelled
        any_on = (a == 1).any(axis=1) if a.shape[1] else np.zeros(stop - start, bool)
        all_lab = (a != AU_MISSING).all(axis=1) if a.shape[1] else np.zeros(stop - start, bool)
        img[2, start:stop] = np.where(any_on[:, None], present, np.where(all_lab[:, None], absent, unl))
        return
    for k in range(a.shape[1]):
        col = a[:, k]
        img[2 + k, start:stop] = np.where((col == 1)[:, None], present,
                                          np.where((col == AU_MISSING)[:, None], unl, absent))


def shaded(colours: np.ndarray, sure: np.ndarray, pale: str) -> np.ndarray:
    """(n, 4) colours blended toward ``pale`` as ``sure`` (n,) in [0, 1] falls; NaN: ``pale``."""
    t = np.clip(np.nan_to_num(np.asarray(sure, np.float64), nan=0.0), 0.0, 1.0)[:, None]
    base = rgba(pale).astype(np.float64)
    return (base + (colours.astype(np.float64) - base) * t).round().astype(np.uint8)


def _tinted(sure: np.ndarray) -> np.ndarray:
    """Predicted frames keep a quarter of their colour even at chance level (the class stays readable);
    NaN (no prediction) stays unlabelled."""
    return np.where(np.isfinite(sure), 0.25 + 0.75 * np.clip(np.nan_to_num(sure), 0.0, 1.0), 0.0)


def confidence_lanes(track: Track, c: LaneColours, au_expanded: bool) -> list[tuple[str, np.ndarray]]:
    """A model track's expression and AU lanes, (name, (n, 4) colours): the predicted class or state,
    paler the less sure the model is (at chance level a quarter of the colour; no prediction: as
    unlabelled). Sureness: expression, the class probability above chance; an AU, |2p - 1|; the summary
    row (present when any AU is), the mean over the AUs."""
    n = track.n_frames
    palette = np.stack([rgba(x) for x in c.expressions])
    e = track.expr.astype(np.int16)
    colours = palette[np.clip(e, 0, len(palette) - 1)]
    if track.expr_prob is not None:
        chance = 1.0 / track.expr_prob.shape[1]
        sure = (cell_confidence(track, "expr") - chance) / (1.0 - chance)
    else:
        sure = np.ones(n)
    out = [("expression", shaded(colours, np.where(e == EXPR_MISSING, 0.0, _tinted(sure)), c.unlabelled))]
    present, absent = rgba(c.au_present), rgba(c.au_absent)
    if track.au_prob is not None:
        p = track.au_prob.astype(np.float64)
    else:  # labels only: certain where labelled
        p = np.where(track.au == AU_MISSING, np.nan, (track.au == 1).astype(np.float64))
    with np.errstate(invalid="ignore"):
        sure_au = np.abs(2.0 * p - 1.0)
    if au_expanded:
        for j, name in enumerate(track.au_names):
            on = (p[:, j] >= 0.5)[:, None]
            out.append((name, shaded(np.where(on, present, absent), _tinted(sure_au[:, j]), c.unlabelled)))
        return out
    on = (p >= 0.5).any(axis=1)[:, None] if p.shape[1] else np.zeros((n, 1), bool)
    ok = np.isfinite(sure_au)
    count = ok.sum(axis=1) if p.shape[1] else np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.where(ok, sure_au, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan)
    out.append(("AUs", shaded(np.where(on, present, absent), _tinted(mean), c.unlabelled)))
    return out


def ramp(values: np.ndarray, low: str, high: str, missing: str) -> np.ndarray:
    """(n,) values in [0, 1] -> (1, n, 4) colours from ``low`` to ``high``; NaN -> ``missing``."""
    v = np.asarray(values, np.float64)
    ok = np.isfinite(v)
    t = np.clip(np.where(ok, v, 0.0), 0.0, 1.0)[:, None]
    lo, hi = rgba(low).astype(np.float64), rgba(high).astype(np.float64)
    out = (lo + (hi - lo) * t).round().astype(np.uint8)
    out[~ok] = rgba(missing)
    return out[None]


def segments(n: int, segs: Sequence[tuple[int, int, str]], background: str) -> np.ndarray:
    """(1, n, 4) colours: ``background`` with each (start, stop, '#rrggbb') segment painted over it."""
    out = np.empty((1, n, 4), np.uint8)
    out[:] = rgba(background)
    for a, b, colour in segs:
        a, b = max(0, int(a)), min(n, int(b))
        if b > a:
            out[0, a:b] = rgba(colour)
    return out


def legend_html(c: LaneColours, names: Sequence[str], text: str,
                strips: Sequence[tuple[str, Sequence[tuple[str, str]]]] = ()) -> str:
    """One line of coloured squares naming what the lane colours mean (wraps; never widens the window);
    ``strips``: (title, [(colour, meaning)]) of the strips shown below the lanes."""
    def sw(colour: str, label: str) -> str:
        return f'<span style="color:{colour}">■</span>&nbsp;{label}'

    expr = " ".join(sw(col, n) for col, n in zip(c.expressions, names))
    # the unlabelled colour is the plot's own near-background: an outlined box, so the swatch is seen
    empty = f'<span style="color:{text}; background-color:{c.unlabelled}">□</span>&nbsp;unlabelled'
    rest = " ".join((sw(c.va_labelled, "VA labelled"), sw(c.au_present, "AU present"),
                     sw(c.au_absent, "AU absent"), empty))
    extra = "".join(f" &nbsp;·&nbsp; {title}: " + " ".join(sw(col, meaning) for col, meaning in entries)
                    for title, entries in strips)
    return f'<span style="color:{text}">{expr} &nbsp;·&nbsp; {rest}{extra}</span>'
