"""Processes of the team tests: an annotator labelling its own lane, or the lead fusing.

    python -m tests.team_child annotate FOLDER ANNOTATOR RUN N_EDITS SAVE_EVERY
        label VA ranges of random videos; print "applied RUN I VIDEO START STOP VALUE" once an edit is
        journaled (or spooled), "next RUN I VIDEO START STOP VALUE" before it is tried, "saved" after a
        save, "offline" when a save found the share away or an edit went into the spool; exit 3 with one
        line when writing is refused
    python -m tests.team_child lead FOLDER ROUNDS
        ROUNDS times: fuse every video under the short project lease ("fused R"), train a tiny model on the
        face-cached video TRAIN_VIDEO ("trained R RUN") and pre-annotate it with a model track MODEL_TRACK
        ("predicted R RUN"); a command that fails prints "failed R COMMAND CODE" after its one error line
    python -m tests.team_child predict FOLDER RUN
        pre-annotate TRAIN_VIDEO with run RUN as any workstation would: "predicted" or "failed predict CODE"

Edits are a pure function of (annotator, run, i), so the parent can rebuild what each lane must hold.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import zlib

import numpy as np

from core.edits import set_range
from core.errors import AffectTraceError, ProjectLockedError
from core.project import Project
from core.tracks import TrackSource

TRAIN_VIDEO = "demo"  # the one video with media and face caches: the lead trains on it and pre-annotates it
MODEL_TRACK = "model"
TINY_TRAIN = ["--preset", "mt-tiny", "--label-track", "truth", "--epochs", "1", "--max-steps", "2",
              "--batch-size", "8", "--seed", "0", "--device", "cpu"]


def edit_of(annotator: str, run: int, i: int, videos: list[str], n_frames: int) -> tuple[str, int, int, float]:
    rng = np.random.default_rng(zlib.crc32(f"{annotator}/{run}/{i}".encode()))
    video = videos[int(rng.integers(len(videos)))]
    start = int(rng.integers(0, n_frames - 1))
    stop = min(n_frames, start + int(rng.integers(1, 40)))
    value = float(np.float32(round(float(rng.uniform(-1, 1)), 3)))
    return video, start, stop, value


def annotate(folder: str, annotator: str, run: int, n_edits: int, save_every: int) -> int:
    try:
        p = Project.open(folder, annotator=annotator, wait_s=1.0)
    except AffectTraceError as e:  # the share went away just as this workstation started
        print(f"cannot open: {e}", flush=True)
        return 2
    if p.readonly:
        print(f"refused: {p.readonly_reason}", flush=True)
        try:
            p.history.push(set_range(next(iter(p.videos)), annotator, "va", 0, 1, (0.0, 0.0)))
        except ProjectLockedError as e:
            print(f"error: {e}", flush=True)
        p.close()
        return 3
    videos = sorted(v for v in p.videos if v != TRAIN_VIDEO)
    n = p.videos[videos[0]].frame_count
    print(f"ready {run} recovered={p.recovered}", flush=True)
    spooling = False
    for i in range(n_edits):
        video, start, stop, value = edit_of(annotator, run, i, videos, n)
        print(f"next {run} {i} {video} {start} {stop} {value!r}", flush=True)
        if not p.has_track(video, annotator):
            p.new_track(video, annotator, TrackSource.human(annotator))
        p.history.push(set_range(video, annotator, "va", start, stop, (value, -value), author=annotator))
        print(f"applied {run} {i} {video} {start} {stop} {value!r}", flush=True)
        if p.offline_since is not None and not spooling:  # this edit went into the spool, not the share
            print(f"offline True spooling: {str(p.offline_reason).splitlines()[0][:200]}", flush=True)
        spooling = p.offline_since is not None
        if save_every and (i + 1) % save_every == 0:
            try:
                p.save()
                print("saved", flush=True)
            except AffectTraceError as e:
                print(f"offline {p.offline_since is not None} {str(e).splitlines()[0][:200]}", flush=True)
            p.poll_changes()
        time.sleep(0.002)
    try:
        p.save()
    except AffectTraceError as e:
        print(f"offline {p.offline_since is not None} {str(e).splitlines()[0][:200]}", flush=True)
    p.close()
    print("done", flush=True)
    return 0


def command(argv: list[str]) -> tuple[int, str]:
    """An `affecttrace` command in this process (as killable as the lead): its exit code and what it wrote
    on stderr (printed through, so a traceback would reach the test)."""
    from core.cli.main import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    text = err.getvalue()
    print(text, end="", flush=True)
    return code, text


def predict(folder: str, run: str, tag: str = "") -> bool:
    code, _ = command(["predict", folder, "--checkpoint", run, "--track-name", MODEL_TRACK, "--video", TRAIN_VIDEO])
    print(f"predicted{tag} {run}" if code == 0 else f"failed{tag} predict {code}", flush=True)
    return code == 0


def lead(folder: str, rounds: int) -> int:
    from core.agreement.fuse import fuse_project

    for r in range(rounds):
        try:
            p = Project.open_writable(folder, wait_s=30)
        except ProjectLockedError as e:  # held longer than that (the test's probe holds it): a clean refusal
            print(f"affecttrace fuse: error: {' '.join(str(e).split())}\nfailed {r} fuse 1", flush=True)
            continue
        try:
            fuse_project(p, "mean", tasks=("va",))
        finally:
            p.close()
        print(f"fused {r}", flush=True)
        run = f"lead{os.getpid()}-{r}"
        code, _ = command(["train", folder, *TINY_TRAIN, "--run-id", run])
        print(f"trained {r} {run}" if code == 0 else f"failed {r} train {code}", flush=True)
        if code == 0:
            predict(folder, run, f" {r}")
        time.sleep(0.2)
    return 0


def main(argv: list[str]) -> int:
    if argv[0] == "annotate":
        return annotate(argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    if argv[0] == "lead":
        return lead(argv[1], int(argv[2]))
    if argv[0] == "predict":
        return 0 if predict(argv[1], argv[2]) else 1
    raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
