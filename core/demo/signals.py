"""Ground-truth label curves of the demo: valence-arousal, expression segments and action units.

Expressions come in segments of 1-4 s, drawn in shuffled blocks of all eight classes so every class
is frequent everywhere in the video. VA follows a per-segment anchor (a region of the circumplex
that fits the expression) plus slow sinusoids, smoothed. Each expression switches on a prototype set
of AUs (EMFACS-like); AUs also switch on by themselves, but never so that the face shows another
expression's full prototype. A few drawn-only cues (AU5 lid raise, AU9 nose wrinkle, AU14 one-sided
dimpler, AU20 lip stretch) come from the expression and are not labelled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..labels import EXPRESSIONS

N_EXPR = len(EXPRESSIONS)
NEUTRAL, ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE, OTHER = range(N_EXPR)

# AUs the face can draw: the labelled 'affwild2-12' set plus drawn-only cues.
DRAWN_AUS: tuple[str, ...] = ("AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU14",
                              "AU15", "AU20", "AU23", "AU24", "AU25", "AU26")
DRAWN_ONLY: frozenset[str] = frozenset({"AU5", "AU9", "AU14", "AU20"})

# Prototype AUs switched on for the whole segment, and optional ones (probability per segment).
REQUIRED: dict[int, frozenset[str]] = {
    NEUTRAL: frozenset(),
    ANGER: frozenset({"AU4", "AU7"}),
    DISGUST: frozenset({"AU9", "AU10"}),
    FEAR: frozenset({"AU1", "AU2", "AU4", "AU5", "AU20", "AU25"}),
    HAPPINESS: frozenset({"AU6", "AU12"}),
    SADNESS: frozenset({"AU1", "AU4", "AU15"}),
    SURPRISE: frozenset({"AU1", "AU2", "AU5", "AU25"}),
    OTHER: frozenset({"AU14"}),
}
OPTIONAL: dict[int, dict[str, float]] = {
    NEUTRAL: {},
    ANGER: {"AU23": 0.5, "AU24": 0.5},
    DISGUST: {"AU4": 0.5, "AU15": 0.3},
    FEAR: {"AU26": 0.3},
    HAPPINESS: {"AU25": 0.5, "AU26": 0.25},
    SADNESS: {"AU6": 0.2},
    SURPRISE: {"AU26": 0.6},
    OTHER: {"AU7": 0.3},
}
# AUs a segment of this expression never shows (they would contradict its prototype).
FORBIDDEN: dict[int, frozenset[str]] = {
    NEUTRAL: frozenset(),
    ANGER: frozenset({"AU12", "AU1", "AU2", "AU25", "AU26"}),
    DISGUST: frozenset({"AU12", "AU2"}),
    FEAR: frozenset({"AU12", "AU23", "AU24", "AU15"}),
    HAPPINESS: frozenset({"AU15", "AU4", "AU23", "AU24"}),
    SADNESS: frozenset({"AU12", "AU2"}),
    SURPRISE: frozenset({"AU4", "AU15", "AU23", "AU24", "AU7"}),
    OTHER: frozenset({"AU12", "AU6"}),
}
# Pairs that cannot show together on the drawn face.
CONFLICTS: tuple[tuple[str, str], ...] = (("AU12", "AU15"), ("AU24", "AU25"), ("AU23", "AU25"),
                                          ("AU23", "AU26"), ("AU24", "AU26"), ("AU10", "AU24"))
# Rate (episodes per minute) of AUs switching on by themselves, chosen to balance prevalence.
INDEPENDENT_RATE: dict[str, float] = {"AU1": 2.0, "AU2": 3.0, "AU4": 1.0, "AU6": 4.0, "AU7": 5.0,
                                      "AU10": 5.0, "AU12": 7.0, "AU15": 4.0, "AU23": 8.0, "AU24": 5.0,
                                      "AU25": 5.0, "AU26": 3.0}
# VA region (valence lo, hi, arousal lo, hi) each expression segment draws its anchor from.
VA_BOX: dict[int, tuple[float, float, float, float]] = {
    NEUTRAL: (-0.25, 0.25, -0.7, -0.1),
    ANGER: (-0.9, -0.4, 0.3, 0.9),
    DISGUST: (-0.8, -0.3, -0.2, 0.4),
    FEAR: (-0.8, -0.3, 0.5, 0.95),
    HAPPINESS: (0.4, 0.95, -0.5, 0.7),
    SADNESS: (-0.9, -0.3, -0.85, -0.2),
    SURPRISE: (-0.1, 0.6, 0.4, 0.95),
    OTHER: (-0.45, 0.05, 0.0, 0.5),
}


@dataclass
class Signals:
    """Per-frame ground truth and drawing controls of one demo video."""

    fps: float
    va: np.ndarray  # (n, 2) float32 in [-1, 1]
    expr: np.ndarray  # (n,) int8
    au_on: dict[str, np.ndarray]  # every drawn AU -> (n,) bool
    weight: dict[str, np.ndarray]  # every drawn AU -> (n,) float32 drawing intensity 0..1
    head: np.ndarray  # (n, 4) float32: dx, dy (fractions of the frame), rotation (deg), scale factor
    gaze: np.ndarray  # (n, 2) float32 iris offset in face units

    @property
    def n_frames(self) -> int:
        return len(self.expr)

    def au_labels(self, aus: tuple[str, ...]) -> np.ndarray:
        """(n, k) int8 0/1 labels in the order of ``aus``."""
        return np.stack([self.au_on[a] for a in aus], axis=1).astype(np.int8)


def expression_segments(n: int, fps: float, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """(start, stop, class) segments of 1-4 s covering n frames, classes in shuffled blocks of 8."""
    segs: list[tuple[int, int, int]] = []
    start, last = 0, -1
    while start < n:
        block = rng.permutation(N_EXPR)
        if block[0] == last:
            block = np.roll(block, -1)
        for c in block:
            length = max(1, int(round(rng.uniform(1.0, 4.0) * fps)))
            stop = min(n, start + length)
            if n - stop < fps:  # no stub shorter than a second at the end
                stop = n
            segs.append((start, stop, int(c)))
            start, last = stop, int(c)
            if start >= n:
                break
    return segs


def _sinusoids(t: np.ndarray, rng: np.random.Generator, periods: tuple[float, float], k: int = 3) -> np.ndarray:
    """Sum of k sinusoids of random periods (seconds) and phases at times t, scaled to peak 1."""
    out = np.zeros(len(t))
    for _ in range(k):
        out += rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * t / rng.uniform(*periods) + rng.uniform(0, 2 * np.pi))
    return out / max(float(np.abs(out).max(initial=0.0)), 1e-9)


def _va_curves(segs: list[tuple[int, int, int]], n: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    anchor = np.zeros((n, 2))
    for s, e, c in segs:
        v0, v1, a0, a1 = VA_BOX[c]
        anchor[s:e] = (rng.uniform(v0, v1), rng.uniform(a0, a1))
    anchor = gaussian_filter1d(anchor, sigma=0.3 * fps, axis=0, mode="nearest")
    t = np.arange(n) / fps
    drift = np.stack([_sinusoids(t, rng, (6.0, 30.0)), _sinusoids(t, rng, (5.0, 25.0))], axis=1)
    return np.clip(0.78 * anchor + 0.22 * drift, -0.98, 0.98).astype(np.float32)


def _completes_other(active: set[str], own: int) -> bool:
    """Would these AUs show the full prototype of an expression other than ``own``?"""
    return any(c != own and REQUIRED[c] and REQUIRED[c] <= active for c in REQUIRED)


def _conflicts(au: str, active: set[str]) -> bool:
    return any((au == a and b in active) or (au == b and a in active) for a, b in CONFLICTS)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _action_units(segs: list[tuple[int, int, int]], expr: np.ndarray, fps: float,
                  rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    n = len(expr)
    on = {a: np.zeros(n, bool) for a in DRAWN_AUS}
    level = {a: np.zeros(n, np.float32) for a in DRAWN_AUS}
    for s, e, c in segs:
        chosen = set(REQUIRED[c])
        for au, p in OPTIONAL[c].items():
            if rng.random() < p and not _conflicts(au, chosen):
                chosen.add(au)
        if "AU26" in chosen:
            chosen.add("AU25")
        for au in sorted(chosen):  # a set's order follows the string hash, which differs per process
            on[au][s:e] = True
            level[au][s:e] = rng.uniform(0.75, 1.0)
    minutes = n / fps / 60.0
    extra_count = np.zeros(n, np.int8)  # AUs switched on by themselves at each frame
    for au, rate in INDEPENDENT_RATE.items():
        for _ in range(rng.poisson(rate * minutes)):
            length = int(round(rng.uniform(0.8, 2.5) * fps))
            s = int(rng.integers(0, max(1, n - length)))
            strength = rng.uniform(0.75, 1.0)
            ok = np.zeros(n, bool)
            for i in range(s, min(n, s + length)):
                if on[au][i] or extra_count[i] >= (1 if expr[i] == NEUTRAL else 2):
                    continue
                active = {a for a in DRAWN_AUS if on[a][i]}
                c = int(expr[i])
                needs25 = au == "AU26" and "AU25" not in active
                extra = {au, "AU25"} if needs25 else {au}
                if au in FORBIDDEN[c] or (needs25 and "AU25" in FORBIDDEN[c]) \
                        or any(_conflicts(x, active) for x in extra) or _completes_other(active | extra, c):
                    continue
                ok[i] = True
            for a, b in _runs(ok):
                if b - a >= int(0.5 * fps):
                    on[au][a:b] = True
                    level[au][a:b] = strength
                    extra_count[a:b] += 1
                    if au == "AU26":
                        on["AU25"][a:b] = True
                        level["AU25"][a:b] = np.maximum(level["AU25"][a:b], strength)
    return on, level


def _weights(on: dict[str, np.ndarray], level: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # A 3-frame onset/offset ramp: a labelled frame is drawn at >= 2/3 of its episode's intensity.
    k = np.ones(3) / 3.0
    return {a: np.convolve(np.where(on[a], level[a], 0.0), k, mode="same").astype(np.float32) for a in on}


def _head(va: np.ndarray, fps: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # Head motion runs faster when arousal is high: slow sinusoids of a warped time.
    tau = np.cumsum(1.0 + 0.7 * va[:, 1].astype(float)) / fps
    head = np.stack([0.09 * _sinusoids(tau, rng, (8.0, 25.0)), 0.06 * _sinusoids(tau, rng, (7.0, 20.0)),
                     9.0 * _sinusoids(tau, rng, (6.0, 18.0)), 1.0 + 0.08 * _sinusoids(tau, rng, (10.0, 30.0))],
                    axis=1).astype(np.float32)
    t = np.arange(len(va)) / fps
    gaze = np.stack([1.6 * _sinusoids(t, rng, (2.0, 7.0)), 0.6 * _sinusoids(t, rng, (3.0, 9.0))], axis=1)
    return head, gaze.astype(np.float32)


def make_signals(n_frames: int, fps: float, rng: np.random.Generator) -> Signals:
    """All ground truth and drawing controls for ``n_frames`` frames, deterministic from ``rng``."""
    segs = expression_segments(n_frames, fps, rng)
    expr = np.zeros(n_frames, np.int8)
    for s, e, c in segs:
        expr[s:e] = c
    va = _va_curves(segs, n_frames, fps, rng)
    on, level = _action_units(segs, expr, fps, rng)
    head, gaze = _head(va, fps, rng)
    return Signals(fps=fps, va=va, expr=expr, au_on=on, weight=_weights(on, level), head=head, gaze=gaze)
