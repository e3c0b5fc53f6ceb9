"""A second process for the project tests: edits until killed, or holds the lock.

    python -m tests.project_child edit FOLDER SAVE_EVERY   record VA samples, print "applied I T" per edit
    python -m tests.project_child hold FOLDER              open, make 3 edits, print "locked", wait for stdin EOF
    python -m tests.project_child flock FOLDER PID         hold the fcntl lock while lock.json names PID

Edit i writes frames 2i and 2i+1 of track "joy" with expected_va(i); every 7th edit is preceded by a
wrong value that is undone (so reverts are journaled and replayed too).
"""
from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from core.edits import record
from core.project import Project
from core.tracks import TrackSource

N_FRAMES = 200_000
REPO = Path(__file__).resolve().parents[1]


def expected_va(i: int) -> np.ndarray:
    v = ((i * 37) % 2000) / 1000.0 - 1.0
    return np.array([[v, -v], [v / 2, v / 3]], dtype=np.float32)


def edit_forever(folder: str, save_every: int) -> None:
    p = Project.open(folder)
    assert not p.readonly, p.lock_holder
    if not p.has_track("clip", "joy"):
        p.new_track("clip", "joy", TrackSource.human("joy"))
        p.save()
    print("ready", flush=True)
    i = 0
    while 2 * i + 2 <= N_FRAMES:
        if i % 7 == 3:
            p.history.push(record("clip", "joy", "va", 2 * i, np.full((2, 2), 0.99, np.float32), author="joy"))
            p.history.undo()
        p.history.push(record("clip", "joy", "va", 2 * i, expected_va(i), author="joy"))
        print(f"applied {i} {time.time():.6f}", flush=True)
        i += 1
        if save_every and i % save_every == 0:
            p.save()
            print(f"saved {i} {time.time():.6f}", flush=True)
        time.sleep(0.0005)  # a joystick is sampled at ~1 kHz at most; leaves the shared CPUs some air


def run_and_kill(folder: str | Path, save_every: int, seed: int) -> tuple[float, list[tuple[int, float]]]:
    """Start the editing child, kill -9 it after a random time; (kill time, [(edit, time printed)])."""
    child = subprocess.Popen([sys.executable, "-m", "tests.project_child", "edit", str(folder), str(save_every)],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.time() + 60
        while not any(line.startswith("ready") for line in lines):
            assert child.poll() is None, child.stderr.read()
            assert time.time() < deadline, "child never became ready"
            time.sleep(0.02)
        time.sleep(random.Random(seed).uniform(1.3, 2.6))
        killed_at = time.time()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    reader.join(5)
    applied = [(int(s.split()[1]), float(s.split()[2])) for s in lines if s.startswith("applied ")]
    return killed_at, applied


def lost_edits(va: np.ndarray, applied: list[tuple[int, float]]) -> list[int]:
    """Edits the killed child printed as applied whose values are not in the reopened track."""
    return [i for i, _ in applied if not np.array_equal(va[2 * i:2 * i + 2], expected_va(i))]


def hold(folder: str) -> None:
    p = Project.open(folder)
    assert not p.readonly, p.lock_holder
    for i in range(3):
        p.apply(record("clip", "joy", "va", 2 * i, expected_va(i), author="holder"))
    print("locked", flush=True)
    sys.stdin.read()
    p.close()


def flock(folder: str, pid: int) -> None:
    fd = os.open(os.path.join(folder, ".lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(os.path.join(folder, "lock.json"), "w") as f:
        json.dump({"user": "ghost", "host": socket.gethostname(), "pid": pid, "started": time.time()}, f)
    print("locked", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    mode, folder = sys.argv[1], sys.argv[2]
    if mode == "edit":
        edit_forever(folder, int(sys.argv[3]))
    elif mode == "hold":
        hold(folder)
    elif mode == "flock":
        flock(folder, int(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")
