"""Labels read from another tool's file, gathered per track before anything is written (all or nothing).

Tracks are copies of the project's (or new human tracks of an annotator named like the track); frames
the file does not give keep their labels, as with import-csv. Two annotations of one file that give
one frame different values are a conflict (an error); the same value twice is an overlap (a note).
``commit`` writes every track in one marked step (journaled puts, then a save).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..errors import LabelFileError
from ..labels import EXPRESSIONS
from ..project.incomplete import marked_incomplete
from ..safepaths import name_problem
from ..tracks import Track, TrackKind, TrackSource
from .framerule import frame_span, runs
from .valuemap import FACS, ValueMap

if TYPE_CHECKING:
    from ..project import Project


@dataclass
class Gathered:
    project: Project
    video: str
    source: Path  # the file read, named by every error
    tracks: dict[str, Track] = field(default_factory=dict)
    filled: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    overlaps: int = 0
    beyond: int = 0  # segments that run past the video's last frame (cut there)
    dropped: Counter[str] = field(default_factory=Counter)  # AUs of FACS codes the project's AU set lacks

    @property
    def n(self) -> int:
        return self.project.videos[self.video].frame_count

    def track(self, name: str) -> Track:
        if name not in self.tracks:
            bad = name_problem(name)
            if bad is not None:
                raise LabelFileError(f"the annotator cannot name a track: {bad}; give the track another name "
                                     "(--annotator / --track)", self.source)
            if self.project.has_track(self.video, name):
                if self.project.track_source(self.video, name).kind == TrackKind.MODEL:
                    raise LabelFileError(f"track {name!r} of {self.video!r} is a model or tool track, which imports "
                                         "never change: store the labels in another track (--annotator / --track)",
                                         self.source)
                self.tracks[name] = self.project.track(self.video, name).copy()
            else:
                self.tracks[name] = Track.empty(self.video, name, TrackSource.human(name), self.n, self.project.au_set)
        return self.tracks[name]

    def _claim(self, name: str, key: str, a: int, b: int, same: np.ndarray, where: str) -> bool:
        """Mark frames a..b-1 of (track, key) as given; False (and a conflict) where they differ from before."""
        mask = self.filled.setdefault((name, key), np.zeros(self.n, bool))
        seen = mask[a:b]
        if seen.any():
            if (seen & ~same).any():
                f = a + int(np.argmax(seen & ~same))
                self.conflicts.append(f"{where}: frame {f} of track {name!r} ({key}) is given two different values")
                return False
            self.overlaps += 1
        mask[a:b] = True
        return True

    def expr(self, name: str, a: int, b: int, code: int, where: str, conf: float | None = None) -> None:
        t = self.track(name)
        if a >= b or not self._claim(name, "expression", a, b, t.expr[a:b] == code, where):
            return
        t.expr[a:b] = code
        if conf is not None:
            if t.expr_prob is None:
                t.expr_prob = np.full((self.n, len(EXPRESSIONS)), np.nan, np.float32)
            t.expr_prob[a:b] = np.nan  # NOVA gives the chosen class's probability only
            t.expr_prob[a:b, code] = conf

    def au(self, name: str, au: str, a: int, b: int, presence: int, intensity: int, where: str,
           conf: float | None = None) -> None:
        t = self.track(name)
        j = t.au_names.index(au)
        if a >= b or not self._claim(name, au, a, b, t.au[a:b, j] == presence, where):
            return
        t.au[a:b, j] = presence
        if intensity >= 0 or t.au_intensity is not None:
            t.array("au_intensity")[a:b, j] = 0 if presence == 0 else intensity
        if conf is not None:
            if t.au_prob is None:
                t.au_prob = np.full((self.n, len(t.au_names)), np.nan, np.float32)
            t.au_prob[a:b, j] = conf if presence else 1.0 - conf

    def label(self, name: str, task: str, value: str, values: ValueMap, a: int, b: int, where: str,
              conf: float | None = None) -> bool:
        """Frames a..b-1 of track ``name`` get what ``value`` means for ``task``; False when it means nothing."""
        if task == "expr":
            code = values.expr(value)
            if code is not None:
                self.expr(name, a, b, code, where, conf)
            return code is not None
        if task == FACS:
            codes = values.facs(value)
            for au, k in codes or []:
                if au in self.project.au_set.aus:
                    self.au(name, au, a, b, 1, k, where, conf)
                else:
                    self.dropped[au] += 1
            return codes is not None
        state = values.au(value)
        if state is not None:
            self.au(name, task, a, b, state[0], state[1], where, conf)
        return state is not None

    def gaps_absent(self, name: str, aus: list[str], where: str) -> None:
        """Every frame of these AUs that the file did not mark is absent."""
        for au in aus:
            given = self.filled.get((name, au), np.zeros(self.n, bool))
            for a, b, _ in runs(given.astype(np.int8), 1):
                self.au(name, au, a, b, 0, 0, where)

    def va(self, name: str, dim: int, values: np.ndarray, std: np.ndarray | None = None) -> None:
        """One VA dimension over the whole video: NaN frames are "no value here"."""
        t = self.track(name)
        given = np.isfinite(values)
        key = ("valence", "arousal")[dim]
        mask = self.filled.setdefault((name, key), np.zeros(self.n, bool))
        if (mask & given).any():
            self.conflicts.append(f"track {name!r}: {key} is given twice")
            return
        mask |= given
        t.va[given, dim] = values[given]
        if std is not None:
            if t.va_std is None:
                t.va_std = np.full((self.n, 2), np.nan, np.float32)
            t.va_std[given, dim] = std[given]

    def span(self, start: Fraction, end: Fraction) -> tuple[int, int]:
        """The frames of [start, end) s (core.interchange.framerule), counting a segment cut at the video's end."""
        entry = self.project.videos[self.video]
        if end * entry.fps_fraction > entry.frame_count:
            self.beyond += 1
        return frame_span(start, end, entry.fps_fraction, entry.frame_count)

    def notes(self, unit: str) -> list[str]:
        """What the user should hear about the gathering: overlaps and segments past the video's end."""
        out = [f"{self.overlaps} overlapping {unit}(s) gave the same value (kept once)"] if self.overlaps else []
        if self.beyond:
            entry = self.project.videos[self.video]
            seconds = float(entry.frame_count / entry.fps_fraction)
            out.append(f"{self.beyond} {unit}(s) run past the video's end ({entry.frame_count} frames, "
                       f"{seconds:.2f} s): cut there; is this the file of {self.video!r}?")
        if self.dropped:
            out.append("not in the project's AU set, left out: " + ", ".join(f"{au} (x{c})" for au, c in
                                                                              self.dropped.most_common()))
        return out

    def commit(self, what: str, also: Callable[[], None] | None = None) -> list[str]:
        """Write every gathered track (and ``also``: sidecar files) in one marked step; the track names."""
        with marked_incomplete(self.project.folder, what):
            for t in self.tracks.values():
                self.project.put_track(t)
            if also is not None:
                also()
            self.project.save()
        return list(self.tracks)
