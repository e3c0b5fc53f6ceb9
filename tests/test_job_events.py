"""`--events` on the long engine commands, run as the app runs them (a child process, stdout a pipe): every
stdout line is one JSON event, from 'start' to 'end'; without --events and without a terminal no progress
bar is drawn; `models --measure` caches its figure per device."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.jobevents import EVENT_KINDS, decode
from tests.engine_support import engine_demo

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, list[dict], str]:
    proc = subprocess.run([sys.executable, "-m", "core.cli", *argv], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=600)
    events = []
    for line in proc.stdout.splitlines():
        ev = json.loads(line)  # strict: every line is JSON (no NaN, no stray text)
        assert decode(line) == ev and ev["event"] in EVENT_KINDS and isinstance(ev["t"], float)
        events.append(ev)
    return proc.returncode, events, proc.stderr


@pytest.fixture()
def env(tmp_path):
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache-home"), "OMP_NUM_THREADS": "1"}


def _shape(events: list[dict], command: str, status: str) -> None:
    assert events[0]["event"] == "start" and events[0]["command"] == command
    assert events[-1]["event"] == "end" and events[-1]["status"] == status
    assert sum(e["event"] == "end" for e in events) == 1


def test_every_long_command_streams_events(tmp_path_factory, tmp_path, env) -> None:
    demo = engine_demo(tmp_path_factory.getbasetemp(), tmp_path / "p", seconds=4.0)
    rc, ev, err = run_cli(["faces", str(demo), "--backend", "reference", "--force", "--events"], env)
    assert rc == 0, err
    _shape(ev, "faces", "finished")
    prog = [e for e in ev if e["event"] == "progress"]
    assert prog and prog[-1]["done"] == prog[-1]["total"] == 100 and ev[-2]["event"] == "result"

    rc, ev, err = run_cli(["train", str(demo), "--preset", "mt-tiny", "--label-track", "@each", "--epochs", "2",
                           "--max-steps", "2", "--batch-size", "8", "--val-blocks", "0.25", "--run-id", "r",
                           "--events"], env)
    assert rc == 0, err
    _shape(ev, "train", "finished")
    kinds = [e["event"] for e in ev]
    assert kinds.index("run") < kinds.index("step") < kinds.index("epoch") < kinds.index("result")
    run = ev[kinds.index("run")]
    assert run["config"]["label_track"] == "@each" and run["val_samples"] > 0 and run["device"] == "cpu"
    assert run["train_samples"] > run["val_samples"]
    step = next(e for e in ev if e["event"] == "step")
    assert {"total", "va", "expr", "au"} <= set(step["losses"]) and step["memory_mb"] > 0
    assert step["images_per_s"] > 0 and step["device"] == "cpu" and step["total_steps"] == 4
    epoch = [e for e in ev if e["event"] == "epoch"]
    assert [e["epoch"] for e in epoch] == [1, 2] and epoch[0]["best"]
    assert {"val_ccc_valence", "val_ccc_arousal", "val_expr_f1", "val_au_f1"} <= set(epoch[0]["metrics"])
    d = epoch[0]["details"]
    assert len(d["expr_confusion"]) == len(d["expr_classes"]) == 8 and len(d["au_per_au_f1"]) == 12
    logged = [json.loads(x) for x in (demo / "models" / "r" / "events.jsonl").read_text().splitlines()]
    assert logged == ev[kinds.index("run"):]  # the run's log: everything from its 'run' event on
    summary = json.loads((demo / "models" / "r" / "summary.json").read_text())
    assert summary["best_epoch"] == 1 or epoch[1]["best"] and summary["best_epoch"] == 2

    rc, ev, err = run_cli(["predict", str(demo), "--checkpoint", "r", "--events"], env)
    assert rc == 0, err
    _shape(ev, "predict", "finished")
    assert any(e["event"] == "progress" for e in ev) and ev[-2]["track"] == "model-r"

    rc, ev, err = run_cli(["fuse", str(demo), "--events"], env)
    assert rc == 0, err
    _shape(ev, "fuse", "finished")
    assert ev[-2]["event"] == "result" and ev[-2]["track"] == "fused"

    rc, ev, err = run_cli(["evaluate", "--task", "va", "--pred", f"{demo}:model-r", "--ref", f"{demo}:fused",
                           "--events"], env)
    assert rc == 0, err
    _shape(ev, "evaluate", "finished")
    assert ev[-2]["overall"]["frames"] > 0

    rc, ev, err = run_cli(["evaluate", "--task", "va", "--pred", f"{demo}:nobody", "--ref", f"{demo}:fused",
                           "--events"], env)
    assert rc == 1 and err.count("\n") == 1
    _shape(ev, "evaluate", "failed")
    assert ev[-2]["event"] == "error" and "nobody" in ev[-2]["text"]


def test_no_progress_bar_without_a_terminal(tmp_path_factory, tmp_path, env) -> None:
    demo = engine_demo(tmp_path_factory.getbasetemp(), tmp_path / "p", seconds=4.0)
    proc = subprocess.run([sys.executable, "-m", "core.cli", "faces", str(demo), "--backend", "reference",
                           "--force"], capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "" and "\r" not in proc.stdout
    assert proc.stdout.count("\n") == 1  # the one summary line


def test_models_measure_is_cached_per_device(env) -> None:
    rc, ev, err = run_cli(["models", "--device", "cpu", "--measure", "mt-tiny", "--events"], env)
    assert rc == 0, err
    rows = {r["name"]: r for r in ev[-2]["presets"]}
    rate = rows["mt-tiny"]["train_images_per_s"]
    assert rate > 0 and rows["mt-vgg"]["train_images_per_s"] is None and ev[-2]["device"] == "cpu"
    proc = subprocess.run([sys.executable, "-m", "core.cli", "models", "--device", "cpu", "--json"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    cached = {r["name"]: r for r in json.loads(proc.stdout)["presets"]}
    assert cached["mt-tiny"]["train_images_per_s"] == rate
    other = {**env, "OMP_NUM_THREADS": "2"}  # another thread count is another device entry
    proc = subprocess.run([sys.executable, "-m", "core.cli", "models", "--device", "cpu", "--json"],
                          capture_output=True, text=True, cwd=REPO, env=other, timeout=300)
    assert {r["name"]: r for r in json.loads(proc.stdout)["presets"]}["mt-tiny"]["train_images_per_s"] is None
