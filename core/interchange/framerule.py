"""How times in other tools' files become video frames, and back. One rule for every format:

- Frame ``f`` is shown at its display time ``f / fps`` (exact, rational).
- A segment [start, end) holds the frames whose display time lies in [start, end).
- A sampled curve (sample ``i`` at time ``t_i``) gives frame ``f`` the sample ``i`` with
  t_i <= f / fps < t_{i+1} (sample-and-hold; the last sample holds for the median sample interval;
  times of irregular series are read to the nanosecond).
- On export a run of frames [a, b) is written as [time(a), time(b)), each time rounded *down* to the
  format's resolution, which the segment rule reads back as exactly the frames a..b-1 while one
  resolution step is no longer than a frame (1 ms for ELAN holds to 1000 fps, the project's limit).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

NS = 10**9
_PLAIN = re.compile(r"\s*([+-]?)(\d+)(?:\.(\d{0,9}))?\s*")


def exact_time(text: str) -> Fraction | None:
    """A time or rate written as decimal text ('2.14', '25', '1e3') as an exact fraction; None if not a number."""
    try:
        d = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return Fraction(d) if d.is_finite() else None


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def first_frame_at(t: Fraction, fps: Fraction) -> int:
    """The first frame whose display time is >= t (may be negative or past the end)."""
    x = Fraction(t) * fps
    return _ceil_div(x.numerator, x.denominator)


def frame_span(start: Fraction, end: Fraction, fps: Fraction, n_frames: int) -> tuple[int, int]:
    """[a, b): the frames of a video of ``n_frames`` whose display time lies in [start, end)."""
    a = min(max(first_frame_at(start, fps), 0), n_frames)
    b = min(max(first_frame_at(end, fps), a), n_frames)
    return a, b


def frame_time(frame: int, fps: Fraction, per_second: int) -> int:
    """The display time of ``frame`` in units of 1/per_second s, rounded down (ms: per_second=1000)."""
    x = Fraction(frame) / fps * per_second
    return x.numerator // x.denominator


def seconds_text(frame: int, fps: Fraction, decimals: int = 6) -> str:
    """Display time of ``frame`` in seconds, rounded down to ``decimals`` places."""
    units = frame_time(frame, fps, 10 ** decimals)
    return f"{units // 10 ** decimals}.{units % 10 ** decimals:0{decimals}d}"


def ns_time(text: str) -> int | None:
    """A time in seconds written as decimal text, in whole nanoseconds (exact to 9 decimals, else rounded);
    None if not a number."""
    m = _PLAIN.fullmatch(text)
    if m is not None:
        sign, whole, frac = m.groups()
        v = int(whole) * NS + int((frac or "").ljust(9, "0"))
        return -v if sign == "-" else v
    t = exact_time(text)
    return None if t is None else round(t * NS)


def hold_samples(times_ns: np.ndarray, fps: Fraction, n_frames: int) -> np.ndarray:
    """For each frame the index of the sample that holds at its display time, -1 where none does.

    ``times_ns`` (int64 nanoseconds) must increase strictly. The last sample holds for the median gap
    between samples (of the last 1000; a lone sample holds for one frame)."""
    t = np.asarray(times_ns, dtype=np.int64)
    if not len(t):
        return np.full(n_frames, -1, np.int64)
    gap = int(np.median(np.diff(t[-1001:]))) if len(t) > 1 else -(-NS * fps.denominator // fps.numerator)
    ends = np.append(t, t[-1] + gap)
    num, den = fps.numerator, fps.denominator
    if int(ends[-1]) * num < 2**62:
        starts = -((-ends * num) // (NS * den))  # the first frame shown at or after each time, in exact integers
    else:
        starts = np.array([-((-int(x) * num) // (NS * den)) for x in ends], dtype=np.int64)
    f = np.arange(n_frames, dtype=np.int64)
    idx = np.searchsorted(starts, f, side="right") - 1
    return np.where((idx >= 0) & (f < starts[-1]), idx, -1)


def regular_samples(n_samples: int, sr: Fraction, fps: Fraction, n_frames: int) -> np.ndarray:
    """``hold_samples`` for samples at i / sr: frame f takes sample floor(f * sr / fps), -1 past the last."""
    f = np.arange(n_frames, dtype=np.int64)
    x = sr / fps
    idx = (f * x.numerator) // x.denominator
    return np.where(idx < n_samples, idx, -1)


def runs(values: np.ndarray, missing: int) -> list[tuple[int, int, int]]:
    """(start, stop, value) of each run of equal values other than ``missing`` in a 1-d int array."""
    v = np.asarray(values)
    if not v.size:
        return []
    cut = np.flatnonzero(np.diff(v) != 0) + 1
    starts = np.concatenate([[0], cut])
    stops = np.concatenate([cut, [len(v)]])
    return [(int(a), int(b), int(v[a])) for a, b in zip(starts, stops) if v[a] != missing]
