"""Recording passes: exactly one sample per displayed frame, no gaps, no duplicates.

The player reports each frame it shows and whether playback ran on from the previous one
(``contiguous``) or jumped (a seek, a loop wrap). Frames the player skipped for being late are
filled here — interpolated for continuous values (valence/arousal), held for discrete ones
(expression, AU) — so every frame between start and stop gets one sample. Samples are written
through the project's journal chunk by chunk (a crash loses at most a chunk) and the whole pass
becomes one undo step when it stops.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from core.edits import Edit

from .commands import EditsCommand, EditTarget, push_edits


class FrameSampler:
    """Collects runs of consecutive per-frame samples (pure logic, no Qt)."""

    def __init__(self, interpolate: bool = True) -> None:
        self.interpolate = interpolate
        self._runs: list[tuple[int, list[np.ndarray]]] = []
        self._start: int | None = None
        self._vals: list[np.ndarray] = []
        self.last_frame: int | None = None
        self._last_value: np.ndarray | None = None
        self.filled = 0  # frames filled because the player skipped them

    def add(self, frame: int, value, contiguous: bool = True) -> None:
        v = np.atleast_1d(np.asarray(value, dtype=np.float32)).copy()
        last = self.last_frame
        if last is not None and contiguous and frame == last:
            return  # the same frame shown again: never a second sample
        if last is None or not contiguous or frame < last:
            self._close()
            self._start, self._vals = frame, [v]
        else:
            gap = frame - last - 1
            if gap > 0:
                self.filled += gap
                prev = self._last_value
                for k in range(1, gap + 1):
                    self._vals.append(prev + (v - prev) * (k / (gap + 1)) if self.interpolate else prev.copy())
            self._vals.append(v)
        self.last_frame, self._last_value = frame, v

    def _close(self) -> None:
        if self._start is not None and self._vals:
            self._runs.append((self._start, self._vals))
        self._start, self._vals = None, []

    def pending(self) -> int:
        return sum(len(v) for _, v in self._runs) + len(self._vals)

    def take(self) -> list[tuple[int, np.ndarray]]:
        """Runs collected so far as (start, (n, w) array); the current run continues afterwards."""
        runs = list(self._runs)
        if self._start is not None and self._vals:
            runs.append((self._start, self._vals))
        self._runs = []
        if self.last_frame is not None:
            self._start, self._vals = self.last_frame + 1, []
        return [(s, np.stack(v)) for s, v in runs if v]


class PassRecorder:
    """One pass of recording (joystick trace or a held paint key) into one track.

    ``make_edit(start, samples)`` builds the Edit (track, task, columns, author, fill mode);
    ``target`` (the project) applies it; ``stack`` receives the pass as one undo step.
    """

    def __init__(self, target: EditTarget, make_edit: Callable[[int, np.ndarray], Edit | list[Edit]],
                 value_fn: Callable[[], object], n_frames: int, interpolate: bool = True, chunk: int = 25,
                 text: str | None = None) -> None:
        self.target = target
        self.make_edit = make_edit
        self.value_fn = value_fn
        self.n_frames = n_frames
        self.sampler = FrameSampler(interpolate)
        self.chunk = chunk
        self.text = text
        self.edits: list[Edit] = []
        self.frames: set[int] = set()

    def on_frame(self, frame: int, contiguous: bool = True) -> None:
        if not 0 <= frame < self.n_frames:
            return
        self.sampler.add(frame, self.value_fn(), contiguous)
        if self.sampler.pending() >= self.chunk:
            self.flush()

    def flush(self) -> None:
        for start, samples in self.sampler.take():
            stop = min(start + len(samples), self.n_frames)
            if stop <= start:
                continue
            made = self.make_edit(start, samples[: stop - start])
            for edit in ([made] if isinstance(made, Edit) else made):
                self.target.apply(edit)
                self.edits.append(edit)
            self.frames.update(range(start, stop))

    def finish(self, stack) -> EditsCommand | None:
        """Write what is left and push the whole pass as one undo step."""
        self.flush()
        return push_edits(stack, self.target, self.edits, text=self.text, applied=True)
