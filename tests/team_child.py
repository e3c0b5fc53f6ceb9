"""Processes of the team tests: an annotator labelling its own lane, or the lead fusing.

    python -m tests.team_child annotate FOLDER ANNOTATOR RUN N_EDITS SAVE_EVERY
        label VA ranges of random videos; print "applied RUN I VIDEO START STOP VALUE" once an edit is
        journaled (or spooled), "next RUN I VIDEO START STOP VALUE" before it is tried, "saved" after a
        save, "offline" when a save found the share away; exit 3 with one line when writing is refused
    python -m tests.team_child lead FOLDER ROUNDS
        fuse every video ROUNDS times under the short project lease; "fused R" per round

Edits are a pure function of (annotator, run, i), so the parent can rebuild what each lane must hold.
"""
from __future__ import annotations

import sys
import time
import zlib

import numpy as np

from core.edits import set_range
from core.errors import AffectTraceError, ProjectLockedError
from core.project import Project
from core.tracks import TrackSource


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
    videos = sorted(p.videos)
    n = p.videos[videos[0]].frame_count
    print(f"ready {run} recovered={p.recovered}", flush=True)
    for i in range(n_edits):
        video, start, stop, value = edit_of(annotator, run, i, videos, n)
        print(f"next {run} {i} {video} {start} {stop} {value!r}", flush=True)
        if not p.has_track(video, annotator):
            p.new_track(video, annotator, TrackSource.human(annotator))
        p.history.push(set_range(video, annotator, "va", start, stop, (value, -value), author=annotator))
        print(f"applied {run} {i} {video} {start} {stop} {value!r}", flush=True)
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


def lead(folder: str, rounds: int) -> int:
    from core.agreement.fuse import fuse_project

    for r in range(rounds):
        p = Project.open_writable(folder, wait_s=30)
        try:
            fuse_project(p, "mean", tasks=("va",))
        finally:
            p.close()
        print(f"fused {r}", flush=True)
        time.sleep(0.2)
    return 0


def main(argv: list[str]) -> int:
    if argv[0] == "annotate":
        return annotate(argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    if argv[0] == "lead":
        return lead(argv[1], int(argv[2]))
    raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
