"""An app that is killed (SIGKILL: no chance to cancel its jobs) leaves no training behind: the job notices
it was re-parented, stops as a cancel would (after its step, keeping last.pt, its log ended 'cancelled'),
and its writes to the app's closed pipe do not end it first."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from tests.nn_demo import make_demo_project

REPO = Path(__file__).resolve().parents[1]

APP = """
import sys
sys.path.insert(0, {repo!r})
from app.jobs.child import Child
child = Child(["train", {folder!r}, "--preset", "mt-tiny", "--label-track", "truth", "--epochs", "500",
               "--device", "cpu", "--run-id", "orphan", "--val-blocks", "0.2"], threads=1)
print(child.pid, flush=True)
for line in child.lines():
    if '"step"' in line:
        print("training", flush=True)
        break
import time
time.sleep(600)
"""


def _ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")  # a zombie (nobody reaps it here) has ended


def test_a_job_of_a_killed_app_stops_cleanly_and_keeps_its_checkpoint(tmp_path: Path) -> None:
    folder = make_demo_project(tmp_path, seconds=6.0)
    app = subprocess.Popen([sys.executable, "-c", APP.format(repo=str(REPO), folder=str(folder))],
                           stdout=subprocess.PIPE, text=True, cwd=REPO)
    child = 0
    try:
        assert app.stdout is not None
        child = int(app.stdout.readline())
        assert app.stdout.readline().strip() == "training", "the job never reached a training step"
        os.kill(app.pid, signal.SIGKILL)  # the app goes without a word to its job
        app.wait()
        deadline = time.monotonic() + 60
        while not _ended(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _ended(child), "the training job outlived the killed app"
    finally:
        if child and not _ended(child):
            os.kill(child, signal.SIGKILL)
        if app.poll() is None:
            app.kill()
    run = folder / "models" / "orphan"
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "end" and events[-1]["status"] == "cancelled", events[-3:]
    assert any(e["event"] == "step" for e in events)
    state = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    assert state["model"], "last.pt holds the weights"
