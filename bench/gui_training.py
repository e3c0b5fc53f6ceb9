"""Playback while a model trains: frames on time at 1x with a recording pass armed, and the GUI event loop's
latency, while `mt-tiny` trains on the demo through the app's job runner (a child process at nice +10 with
cores - 1 threads, app/jobs/child.py) and the training dashboard follows it live.

    python bench/gui_training.py [--seconds 180] [--out bench/out/gui_training.json]

The demo project (``--seconds`` long; the shipped demo is 180 s) gets its face caches from its drawn
landmarks, then training starts; once its first step is reported the whole main window plays the demo at
1x (bench/gui.py's playback: wall clock, joystick moving, recording armed) while a 10 ms timer measures
how late the event loop serves it. Targets: >= 97 % of frames on time, event-loop p99 latency < 100 ms.
Other processes share the CPU: the load average before and after is reported with the figures.
Prints JSON, then a one-line summary.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench.gui import playback, wait  # noqa: E402

TICK_MS = 10


class LoopLatency:
    """A timer every TICK_MS; the lateness of each tick beyond its interval is the event loop's latency."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.samples: list[tuple[float, float]] = []  # (time, latency ms)
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.samples.append((now, max(0.0, (now - self.last) * 1000 - TICK_MS)))
        self.last = now

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self, since: float) -> dict:
        """Figures of the ticks after ``since`` (perf_counter: the start of playback, not window set-up)."""
        self.timer.stop()
        lat = np.asarray([ms for t, ms in self.samples if t >= since] or [0.0])
        return {"ticks": len(lat), "tick_ms": TICK_MS, "latency_ms_p50": float(np.percentile(lat, 50)),
                "latency_ms_p99": float(np.percentile(lat, 99)), "latency_ms_max": float(lat.max())}


def _play_start(latency: LoopLatency, wall_s: float) -> float:
    """When playing began: its wall time before the last tick (playback() returns when it stops)."""
    last = latency.samples[-1][0] if latency.samples else time.perf_counter()
    return last - wall_s


def make_demo(folder: Path, seconds: float) -> Path:
    from core.demo import create_demo
    from core.faces import process_project

    p = create_demo(folder, duration_s=seconds)
    try:
        process_project(p, backend="reference")
    finally:
        p.close()
    return folder


def training_rate(events: list[dict], t0: float, t1: float) -> dict:
    steps = [e for e in events if e.get("event") == "step" and t0 <= e["t"] <= t1]
    rates = [e["images_per_s"] for e in steps if e.get("images_per_s")]
    return {"steps_during_playback": len(steps),
            "train_images_per_s_median": float(np.median(rates)) if rates else None,
            "memory_mb_last": steps[-1].get("memory_mb") if steps else None}


def measure(folder: Path, tmp: Path, train: bool, dashboard: bool) -> dict:
    """Play the demo once (with mt-tiny training and, optionally, the dashboard following it)."""
    from app.jobs import JobRunner

    out: dict = {"training_job": train, "dashboard": train and dashboard, "load_before": os.getloadavg()[0]}
    runner = JobRunner()
    job = None
    if train:
        job = runner.submit(["train", str(folder), "--preset", "mt-tiny", "--label-track", "@each",
                             "--val-blocks", "0.2", "--epochs", "1000", "--batch-size", "32"], "bench training")
        if not wait(lambda: any(e.get("event") == "step" for e in job.events) or job.done, 300) or job.done:
            raise RuntimeError(f"training did not start: {job.error or job.state}")
        if dashboard:
            from app.engine.dashboard import Dashboard

            board = Dashboard()  # the user watches the run: its redraws are on the GUI thread too
            board.resize(900, 700)
            board.show()
            board.follow(job)
    latency = LoopLatency()
    latency.start()
    t0 = time.time()
    out["playback"] = playback(folder, tmp)
    t1 = time.time()
    out["event_loop"] = latency.stop(since=_play_start(latency, out["playback"]["wall_s"]))
    out["load_after"] = os.getloadavg()[0]
    if job is not None:
        out["training"] = {"still_running": job.state == "running", **training_rate(job.events, t0, t1)}
        job.cancel()
        runner.wait(120)
        out["training"]["final_state"] = job.state
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=180.0, help="length of the demo video (shipped demo: 180)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "gui_training.json")
    ap.add_argument("--no-dashboard", action="store_true", help="train without the dashboard following the job")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the playback without training (the same machine load, for comparison)")
    args = ap.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from app.jobs import job_threads

    app = QApplication.instance() or QApplication([])
    app.setApplicationName("AffectTrace-bench")
    out: dict = {"machine": f"{os.cpu_count()}-core CPU, offscreen Qt, wall clock (no audio device)",
                 "job_threads": job_threads()}
    with tempfile.TemporaryDirectory(prefix="affecttrace-gui-training-") as d:
        tmp = Path(d)
        folder = make_demo(tmp / "demo", args.seconds)
        try:
            out["while_training"] = measure(folder, tmp, True, not args.no_dashboard)
            if not args.no_baseline:
                out["baseline_no_training"] = measure(folder, tmp, False, False)
        except RuntimeError as e:
            print(f"bench/gui_training.py: {e}", file=sys.stderr)
            return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    w = out["while_training"]
    pb, lp, tr = w["playback"], w["event_loop"], w["training"]
    base = out.get("baseline_no_training")
    print(f"gui_training: while mt-tiny trains ({tr['train_images_per_s_median'] or 0:.0f} images/s, "
          f"{out['job_threads']} thread(s), nice +10{', dashboard shown' if w['dashboard'] else ''}): on time "
          f"{100 * pb['on_time_share']:.1f}% (target >=97%), event loop p99 {lp['latency_ms_p99']:.1f} ms "
          f"(target <100 ms, max {lp['latency_ms_max']:.0f}); load {w['load_before']:.1f} -> {w['load_after']:.1f} "
          f"on {os.cpu_count()} cores" + (f"; without training at the same time: on time "
                                           f"{100 * base['playback']['on_time_share']:.1f}%, p99 "
                                           f"{base['event_loop']['latency_ms_p99']:.1f} ms, load "
                                           f"{base['load_before']:.1f}" if base else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
