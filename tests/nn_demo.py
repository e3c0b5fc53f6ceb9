"""A small demo project for the engine tests: drawn-face video, face caches (reference backend), and the
ground truth as a track named 'truth'. Optional held-out video from another seed, frames without a face."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.demo import create_demo, load_ground_truth
from core.faces import process_project
from core.project import Project


def make_demo_project(root: Path, seconds: float = 6.0, heldout_seconds: float = 0.0,
                      no_face: tuple[int, int] | None = None) -> Path:
    """``root/p`` with video 'demo' (train split); with ``heldout_seconds`` also 'heldout' (val split,
    drawn from another seed); ``no_face`` = [start, stop) frames of 'demo' where no face is found."""
    root = Path(root)
    p = create_demo(root / "p", seed=0, duration_s=seconds)
    try:
        sources = [(root / "p", "demo")]
        if heldout_seconds:
            create_demo(root / "b", seed=1, duration_s=heldout_seconds).close()
            p.add_video(root / "b" / "media" / "demo.mp4", name="heldout", split="val", subject="b")
            sources.append((root / "b", "heldout"))
        for folder, video in sources:
            truth = load_ground_truth(folder)
            track = truth.track
            track.video, track.name = video, "truth"
            p.put_track(track)
            landmarks = truth.landmarks.copy()
            if no_face is not None and video == "demo":
                landmarks[no_face[0]:no_face[1]] = np.nan
            np.save(root / f"{video}_landmarks.npy", landmarks)
            process_project(p, backend="reference", videos=[video], reference=root / f"{video}_landmarks.npy")
        p.save()
    finally:
        p.close()
    return root / "p"


def open_project(folder: Path) -> Project:
    return Project.open(folder)
