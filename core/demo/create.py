"""Making the demo project: video with audio, three annotators' tracks, ground truth beside it."""
from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ProjectError
from ..labels import AU_PRESETS
from ..media.writer import as_fraction, write_video
from ..progress import Progress, no_progress
from ..project import Project
from ..tracks import Track
from .annotators import annotate, default_profiles
from .audio import synthesize
from .draw import FaceRenderer
from .geometry import face_landmarks, head_transform
from .shapes import FrameShapes
from .signals import make_signals
from .truth import TRUTH_FILE, DemoTruth, save_truth, truth_source

DEMO_VIDEO = "demo"
DEMO_AU_SET = AU_PRESETS["affwild2-12"]
AUDIO_RATE = 16000
MEDIA_FILE = Path("media") / "demo.mp4"


def create_demo(folder: str | Path, seed: int = 0, duration_s: float = 180.0, fps: int | str | Fraction = 25,
                size: tuple[int, int] = (320, 240), progress: Progress = no_progress) -> Project:
    """Create the demo project in ``folder`` (new or empty) and return it open.

    The video (H.264 + AAC) shows a drawn face whose features follow the ground truth; three
    simulated annotators ('ann1', 'ann2', 'ann3') label it; ``ground_truth.h5`` holds the truth.
    Everything is a function of ``seed``."""
    rate = as_fraction(fps)
    w, h = int(size[0]), int(size[1])
    if rate <= 0 or duration_s <= 0:
        raise ValueError(f"duration and fps must be positive (got {duration_s} s at {rate} fps)")
    if w < 64 or h < 48 or w % 2 or h % 2:
        raise ValueError(f"frame size must be even and at least 64x48 (got {w}x{h})")
    n = int(round(duration_s * float(rate)))
    if n < 2:
        raise ValueError(f"{duration_s} s at {rate} fps is less than two frames")
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise ProjectError("folder is not empty; the demo needs a new or empty folder", folder)
    existed = folder.exists()

    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(4)]
    sig_rng, draw_rng, audio_rng, ann_rng = rngs
    sig = make_signals(n, float(rate), sig_rng)
    face = face_landmarks(sig.weight, sig.va[:, 1])
    m, off = head_transform(sig.head, (w, h))
    shapes = FrameShapes(face, m, off, sig.weight, sig.va, sig.gaze)
    renderer = FaceRenderer((w, h), draw_rng, shapes, float(rate))
    audio = synthesize(sig.va[:, 1], sig.weight["AU25"], float(rate), AUDIO_RATE, audio_rng)

    project = Project.create(folder, name="AffectTrace demo", au_set=DEMO_AU_SET)
    try:
        media = project.folder / MEDIA_FILE
        media.parent.mkdir(parents=True, exist_ok=True)

        def frames() -> Iterator[np.ndarray]:
            for i in range(n):
                if i % 50 == 0:
                    progress(i, n, "drawing and encoding")
                yield renderer.frame(i)
            progress(n, n, "done")

        write_video(media, frames(), rate, codec="h264", audio=audio, audio_rate=AUDIO_RATE,
                    crf=20, preset="ultrafast", gop=int(round(2 * float(rate))))
        project.add_video(media, name=DEMO_VIDEO, split="train", subject="demo")

        aus = DEMO_AU_SET.aus
        lags, gaps, profiles = {}, {}, {}
        for profile in default_profiles(ann_rng):
            track, g = annotate(sig, profile, aus, DEMO_VIDEO, ann_rng)
            project.add_annotator(profile.name)
            project.put_track(track)
            lags[profile.name], gaps[profile.name], profiles[profile.name] = profile.lag_s, g, profile.to_dict()

        truth_track = Track(DEMO_VIDEO, "ground_truth", truth_source(seed), aus, sig.va, sig.expr, sig.au_labels(aus))
        save_truth(project.folder / TRUTH_FILE, DemoTruth(
            track=truth_track, landmarks=shapes.landmarks, boxes=shapes.box(), lags=lags, gaps=gaps, fps=rate,
            seed=int(seed), size=(w, h), head=sig.head, drawn=sig.weight, annotators=profiles,
            audio_rate=AUDIO_RATE))
        project.save()
    except BaseException:
        project.close()
        _remove_half_made(project.folder, existed)
        raise
    return project


def _remove_half_made(folder: Path, keep_folder: bool) -> None:
    """Undo a failed or interrupted creation: everything in the folder is ours (it was new or empty)."""
    if keep_folder:
        for p in folder.iterdir():
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
    else:
        shutil.rmtree(folder, ignore_errors=True)
