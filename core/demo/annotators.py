"""Simulated human annotators of the demo video.

VA is traced live (joystick style): each annotator follows the truth late by a reaction lag, with
their own scale, bias and smooth tracking noise. Expressions and AUs are labelled frame by frame
afterwards, so they carry no lag but disagree at boundaries (jitter), now and then flip to a
confusable class, miss an AU episode or see one that is not there. One annotator leaves gaps.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..labels import AU_MISSING, EXPR_MISSING
from ..tracks import Track, TrackSource
from .signals import ANGER, DISGUST, FEAR, HAPPINESS, N_EXPR, NEUTRAL, OTHER, SADNESS, SURPRISE, Signals

# Which class a hurried annotator takes each class for.
CONFUSED_WITH = {NEUTRAL: OTHER, ANGER: DISGUST, DISGUST: ANGER, FEAR: SURPRISE, HAPPINESS: OTHER,
                 SADNESS: NEUTRAL, SURPRISE: FEAR, OTHER: NEUTRAL}


@dataclass(frozen=True)
class AnnotatorProfile:
    """How one simulated annotator labels. Lags are exact (seconds); gaps are [start, stop) frames."""

    name: str
    lag_s: float
    va_scale: tuple[float, float]
    va_bias: tuple[float, float]
    va_noise: float
    jitter_s: float  # boundary jitter of discrete labels (max, either way)
    flips_per_min: float  # short stretches labelled with a confusable class
    au_miss: float  # chance of missing an AU episode
    au_false_per_min: float  # spurious AU episodes per AU
    has_gaps: bool

    def to_dict(self) -> dict:
        return asdict(self)


def default_profiles(rng: np.random.Generator) -> list[AnnotatorProfile]:
    """ann1, ann2, ann3: lags near 1.2, 2.0 and 2.8 s (jittered by the seed); ann3 leaves gaps."""
    lag = [round(float(b + rng.uniform(-0.15, 0.15)), 2) for b in (1.2, 2.0, 2.8)]
    return [
        AnnotatorProfile("ann1", lag[0], (1.0, 0.95), (0.02, -0.03), 0.06, 0.2, 0.6, 0.03, 0.3, False),
        AnnotatorProfile("ann2", lag[1], (0.85, 1.1), (0.08, 0.05), 0.09, 0.3, 1.0, 0.05, 0.5, False),
        AnnotatorProfile("ann3", lag[2], (1.1, 0.9), (-0.05, 0.0), 0.07, 0.25, 0.8, 0.04, 0.4, True),
    ]


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, stop, value) runs of equal values."""
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(labels)]])
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, stops)]


def _jitter(labels: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Move every boundary between runs by up to max_shift frames, keeping each run >= 1 frame."""
    runs = _runs(labels)
    out = labels.copy()
    for k in range(1, len(runs)):
        lo, b, hi = runs[k - 1][0] + 1, runs[k][0], runs[k][1] - 1
        nb = int(np.clip(b + rng.integers(-max_shift, max_shift + 1), lo, max(lo, hi)))
        if nb < b:
            out[nb:b] = runs[k][2]
        elif nb > b:
            out[b:nb] = runs[k - 1][2]
    return out


def _stretches(n: int, fps: float, per_min: float, dur: tuple[float, float],
               rng: np.random.Generator) -> list[tuple[int, int]]:
    out = []
    for _ in range(rng.poisson(per_min * n / fps / 60.0)):
        length = max(1, int(round(rng.uniform(*dur) * fps)))
        s = int(rng.integers(0, max(1, n - length)))
        out.append((s, min(n, s + length)))
    return out


def make_gaps(n: int, fps: float, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Non-overlapping unlabelled stretches of 3-8 s (shorter on short videos), at least one."""
    count = max(1, int(round(n / fps / 45.0)))
    longest = max(1.0, min(8.0, 0.12 * n / fps))
    margin = int(min(2.0 * fps, n // 10))
    gaps: list[tuple[int, int]] = []
    for _ in range(50 * count):
        if len(gaps) == count:
            break
        length = int(round(rng.uniform(min(3.0, longest * 0.6), longest) * fps))
        if n - margin - length <= margin:
            break
        s = int(rng.integers(margin, n - margin - length))
        if all(s + length + fps <= a or s >= b + fps for a, b in gaps):
            gaps.append((s, s + length))
    return sorted(gaps)


def annotate(sig: Signals, profile: AnnotatorProfile, aus: tuple[str, ...], video: str,
             rng: np.random.Generator) -> tuple[Track, list[tuple[int, int]]]:
    """One annotator's track of the demo video and their gaps."""
    n, fps = sig.n_frames, sig.fps
    t = np.arange(n) / fps
    track = Track.empty(video, profile.name, TrackSource.human(profile.name), n, aus)
    for d in range(2):
        late = np.interp(t - profile.lag_s, t, sig.va[:, d].astype(float))
        wobble = gaussian_filter1d(rng.normal(size=n), sigma=0.4 * fps)
        wobble *= profile.va_noise / max(float(wobble.std()), 1e-9)
        tremor = rng.normal(0, 0.01, size=n)
        track.va[:, d] = np.clip(profile.va_scale[d] * late + profile.va_bias[d] + wobble + tremor, -1, 1)

    jit = max(1, int(round(profile.jitter_s * fps)))
    expr = _jitter(sig.expr.astype(np.int16), jit, rng)
    for s, e in _stretches(n, fps, profile.flips_per_min, (0.3, 1.0), rng):
        expr[s:e] = CONFUSED_WITH[int(expr[s])]
    track.expr[:] = np.clip(expr, 0, N_EXPR - 1)

    for j, au in enumerate(aus):
        lab = _jitter(sig.au_on[au].astype(np.int16), jit, rng)
        for s, e, val in _runs(lab):
            if val == 1 and rng.random() < profile.au_miss:
                lab[s:e] = 0
        for s, e in _stretches(n, fps, profile.au_false_per_min, (0.3, 0.8), rng):
            lab[s:e] = 1
        track.au[:, j] = lab

    gaps = make_gaps(n, fps, rng) if profile.has_gaps else []
    for s, e in gaps:
        track.va[s:e] = np.nan
        track.expr[s:e] = EXPR_MISSING
        track.au[s:e] = AU_MISSING
    return track, gaps
