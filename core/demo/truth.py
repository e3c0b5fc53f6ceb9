"""The demo's ground truth beside the project: ``ground_truth.h5``.

Layout (Track-like): datasets ``va`` (n, 2) f32, ``expr`` (n,) i8, ``au`` (n, k) i8 with attrs
``au_names``; ``landmarks68`` (n, 68, 2) f32 (iBUG order, pixels of the drawn face), ``boxes``
(n, 4) f32 x0 y0 x1 y1, ``head`` (n, 4) f32 (dx, dy, rotation deg, scale), ``drawn/<AU>`` (n,) f32
drawing intensity of every drawn AU (including unlabelled ones), group ``annotators/<name>`` with the
profile in attrs (``lag_s`` exact) and ``gaps`` (g, 2) int32 [start, stop) frames. File attrs:
video, fps ("num/den"), n_frames, seed, width, height, audio_rate, au_set.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import ProjectError
from ..tracks import Track, TrackSource

TRUTH_FILE = "ground_truth.h5"


@dataclass
class DemoTruth:
    """What the demo video really shows, and how each simulated annotator was made."""

    track: Track
    landmarks: np.ndarray  # (n, 68, 2) float32
    boxes: np.ndarray  # (n, 4) float32
    lags: dict[str, float]
    gaps: dict[str, list[tuple[int, int]]]
    fps: Fraction
    seed: int
    size: tuple[int, int]
    head: np.ndarray  # (n, 4) float32
    drawn: dict[str, np.ndarray] = field(default_factory=dict)  # AU -> (n,) drawing intensity
    annotators: dict[str, dict[str, Any]] = field(default_factory=dict)  # profile of each annotator
    audio_rate: int = 16000

    @property
    def n_frames(self) -> int:
        return self.track.n_frames


def truth_source(seed: int) -> TrackSource:
    return TrackSource.fused(method="ground-truth", generator="core.demo", seed=int(seed))


def save_truth(path: Path, truth: DemoTruth) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tr = truth.track
    with h5py.File(tmp, "w") as h:
        h.attrs.update({"video": tr.video, "fps": f"{truth.fps.numerator}/{truth.fps.denominator}",
                        "n_frames": tr.n_frames, "seed": int(truth.seed), "width": truth.size[0],
                        "height": truth.size[1], "audio_rate": int(truth.audio_rate)})
        h.create_dataset("va", data=tr.va, compression="gzip")
        h.create_dataset("expr", data=tr.expr, compression="gzip")
        au = h.create_dataset("au", data=tr.au, compression="gzip")
        au.attrs["au_names"] = json.dumps(list(tr.au_names))
        h.create_dataset("landmarks68", data=truth.landmarks.astype(np.float32), compression="gzip")
        h.create_dataset("boxes", data=truth.boxes.astype(np.float32), compression="gzip")
        h.create_dataset("head", data=truth.head.astype(np.float32), compression="gzip")
        g = h.create_group("drawn")
        for k, v in truth.drawn.items():
            g.create_dataset(k, data=v.astype(np.float32), compression="gzip")
        g = h.create_group("annotators")
        for name, profile in truth.annotators.items():
            a = g.create_group(name)
            a.attrs["profile"] = json.dumps(profile)
            a.attrs["lag_s"] = float(truth.lags[name])
            a.create_dataset("gaps", data=np.asarray(truth.gaps.get(name, []), np.int32).reshape(-1, 2))
    tmp.replace(path)


def load_ground_truth(folder: str | Path) -> DemoTruth:
    """Read ``folder/ground_truth.h5`` of a demo project (folder or its project.json)."""
    folder = Path(folder)
    if folder.suffix == ".json":
        folder = folder.parent
    path = folder / TRUTH_FILE
    if not path.exists():
        raise ProjectError("no demo ground truth here (not a demo project?)", path)
    try:
        with h5py.File(path, "r") as h:
            attrs = dict(h.attrs)
            aus = tuple(json.loads(h["au"].attrs["au_names"]))
            track = Track(str(attrs["video"]), "ground_truth", truth_source(int(attrs["seed"])), aus,
                          h["va"][()], h["expr"][()], h["au"][()])
            lags, gaps, profiles = {}, {}, {}
            for name, a in h["annotators"].items():
                lags[name] = float(a.attrs["lag_s"])
                gaps[name] = [(int(s), int(e)) for s, e in a["gaps"][()]]
                profiles[name] = json.loads(a.attrs["profile"])
            num, den = str(attrs["fps"]).split("/")
            return DemoTruth(track=track, landmarks=h["landmarks68"][()], boxes=h["boxes"][()], lags=lags,
                             gaps=gaps, fps=Fraction(int(num), int(den)), seed=int(attrs["seed"]),
                             size=(int(attrs["width"]), int(attrs["height"])), head=h["head"][()],
                             drawn={k: d[()] for k, d in h["drawn"].items()}, annotators=profiles,
                             audio_rate=int(attrs["audio_rate"]))
    except (OSError, KeyError, ValueError) as e:
        raise ProjectError(f"unreadable demo ground truth ({e})", path) from e
