"""GUI benchmark: frames presented on time at 1x (640x360 and 1280x720 H.264), UI cost per frame,
time from start to window shown (torch not imported), memory while playing through long 720p video.

    python bench/gui.py [--seconds 30] [--memory-minutes 15] [--hour] [--out bench/out/gui.json]

Playback runs the whole main window (video view, timeline, panels, a joystick recording pass) on the
offscreen platform, driven by the wall clock (no sound card here). Memory: generating an hour of
720p is heavy, so a 60 s 720p clip is looped at 8x until ``--memory-minutes`` of video have played
(``--hour``: 60 minutes); RSS is sampled throughout. Prints JSON, then a one-line summary.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402


def make_clip(path: Path, size: tuple[int, int], seconds: float, fps: int = 25) -> Path:
    """H.264 clip with moving texture (real decode work), a keyframe every 2 s, and a tone."""
    from core.media import write_video

    w, h = size
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)[:h, :w]
    yy, xx = np.mgrid[0:h, 0:w]
    n = int(seconds * fps)

    def frames():
        for i in range(n):
            f = np.roll(base, (i * 3) % w, axis=1).copy()
            f[..., 0] = ((xx + i * 5) % 256).astype(np.uint8) // 2 + f[..., 0] // 2
            cy, cx = h // 2 + int(h / 4 * math.sin(i / 20)), w // 2 + int(w / 4 * math.cos(i / 25))
            f[max(0, cy - 30):cy + 30, max(0, cx - 30):cx + 30] = (255, 255, 255)
            yield f

    t = np.arange(int(seconds * 16000)) / 16000
    audio = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return write_video(path, frames(), fps, audio=audio, audio_rate=16000, gop=2 * fps, crf=23)


def project_with(folder: Path, clip: Path):
    from core.project import Project

    p = Project.create(folder)
    p.add_video(clip, name=clip.stem)
    p.save()
    p.close()
    return folder


def window_on(folder: Path, tmp: Path):
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from app.settings import Settings

    s = Settings(QSettings(str(tmp / "bench-settings.ini"), QSettings.IniFormat))
    s.annotator = "bench"
    win = MainWindow(s, interactive=False)
    win.resize(1440, 900)
    win.default_layout()
    win.show()
    assert win.open_project(folder)
    wait(lambda: win.player.current == 0, 30)
    win.player.use_audio = False
    return win


def wait(cond, timeout: float) -> bool:
    """Run the event loop (blocking, as app.exec does) until ``cond()`` or the timeout: polling with
    processEvents would add its own cost to the GUI thread being measured."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    end = time.perf_counter() + timeout
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: (cond() or time.perf_counter() > end) and loop.quit())
    check.start()
    if not cond():
        loop.exec()
    check.stop()
    return cond()


def playback(folder: Path, tmp: Path) -> dict:
    """Play the whole clip at 1x with a recording pass armed and the stick moving."""
    from PySide6.QtCore import QTimer

    from app.player.player import PlaybackStats

    win = window_on(folder, tmp)
    p = win.player
    t0 = time.perf_counter()
    stick = QTimer(win)
    stick.setInterval(8)
    stick.timeout.connect(lambda: win.views.joystick.set_value(math.sin(time.perf_counter() - t0), 0.5))
    stick.start()
    win.annot.set_armed(True)
    p.stats = PlaybackStats(period_s=float(1 / p.fps))
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    p.play()
    wait(lambda: not p.playing, p.n_frames / float(p.fps) * 3 + 30)
    cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
    stick.stop()
    win.annot.set_armed(False)
    st = p.stats
    own = win.session.track()
    lat = np.array(st.lateness_ms)
    res = {
        "frames": p.n_frames - 1, "shown": st.shown, "skipped": st.skipped,
        "on_time_share": st.on_time_share, "on_time_rule": "shown within half a frame period of its due time",
        "lateness_ms_p50": float(np.percentile(lat, 50)), "lateness_ms_p99": float(np.percentile(lat, 99)),
        "ui_handlers_ms_mean": float(np.mean(st.ui_ms)), "ui_handlers_ms_p99": float(np.percentile(st.ui_ms, 99)),
        "gui_thread_cpu_ms_per_frame": cpu * 1000 / max(st.shown, 1),
        "wall_s": wall, "recorded_frames": int(own.labelled("va").sum()),
    }
    win.close()
    return res


def startup(folder: Path, tmp: Path, runs: int) -> dict:
    """Spawn `python main.py PROJECT --timing` and time it until the window is shown."""
    times, torch = [], []
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp / "cfg"),
           "XDG_DATA_HOME": str(tmp / "data")}
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), str(folder), "--screenshot",
                                 str(tmp / "startup.png"), "--timing"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        times.append(time.perf_counter() - t0)
        torch.append(json.loads(line)["torch_imported"])
        proc.communicate(timeout=300)
    return {"runs": runs, "window_shown_s_min": min(times), "window_shown_s_median": statistics.median(times),
            "window_shown_s_all": times, "torch_imported": any(torch)}


def memory(folder: Path, tmp: Path, minutes: float) -> dict:
    """Loop the 720p clip at 8x until ``minutes`` of video have been presented; sample RSS."""
    import psutil

    win = window_on(folder, tmp)
    p = win.player
    proc = psutil.Process()
    p.set_loop(0, p.n_frames - 1)
    p.speed = 8.0  # past the UI's 2x on purpose: the wall clock follows any speed
    target = int(minutes * 60 * float(p.fps))
    presented = {"n": 0}
    p.frameShown.connect(lambda i, c: presented.__setitem__("n", presented["n"] + 1))
    samples = []
    p.play()
    t0 = time.perf_counter()
    last = -1.0
    while presented["n"] + p.stats.skipped < target and time.perf_counter() - t0 < minutes * 60 / 2 + 120:
        wait(lambda: False, 0.5)
        now = time.perf_counter() - t0
        if now - last >= 2.0:
            last = now
            samples.append((presented["n"] + p.stats.skipped, proc.memory_info().rss / 2**20))
    p.pause()
    covered = presented["n"] + p.stats.skipped
    win.close()
    x = np.array([s[0] for s in samples], float)
    y = np.array([s[1] for s in samples], float)
    half = len(y) // 2
    slope = float(np.polyfit(x[half:], y[half:], 1)[0] * 10000) if half >= 2 else float("nan")
    return {"video_minutes_covered": covered / float(p.fps or 25) / 60, "frames_covered": int(covered),
            "frames_presented": presented["n"], "rss_mb_first": float(y[0]), "rss_mb_last": float(y[-1]),
            "rss_mb_max": float(y.max()), "rss_mb_slope_per_10k_frames_second_half": slope,
            "samples": [[int(a), round(b, 1)] for a, b in samples]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the playback clips")
    ap.add_argument("--memory-minutes", type=float, default=15.0, help="minutes of 720p video to play through")
    ap.add_argument("--hour", action="store_true", help="a full hour for the memory run")
    ap.add_argument("--startup-runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "gui.json")
    args = ap.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    app.setApplicationName("AffectTrace-bench")
    out: dict = {"machine": f"{os.cpu_count()}-core CPU, offscreen Qt, wall clock (no audio device)"}
    with tempfile.TemporaryDirectory(prefix="affecttrace-gui-bench-") as d:
        tmp = Path(d)
        for label, size in (("640x360", (640, 360)), ("1280x720", (1280, 720))):
            clip = make_clip(tmp / f"clip{label}.mp4", size, args.seconds)
            folder = project_with(tmp / f"proj{label}", clip)
            out[f"playback_{label}"] = playback(folder, tmp)
        out["startup"] = startup(tmp / "proj640x360", tmp, args.startup_runs)
        long_clip = make_clip(tmp / "long720.mp4", (1280, 720), 60.0)
        folder = project_with(tmp / "projlong", long_clip)
        out["memory_720p"] = memory(folder, tmp, 60.0 if args.hour else args.memory_minutes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    a, b, s, m = out["playback_640x360"], out["playback_1280x720"], out["startup"], out["memory_720p"]
    print(f"gui: on time 640x360 {100 * a['on_time_share']:.1f}% / 1280x720 {100 * b['on_time_share']:.1f}% "
          f"(target >=99%); GUI thread {a['gui_thread_cpu_ms_per_frame']:.1f}/{b['gui_thread_cpu_ms_per_frame']:.1f} "
          f"ms/frame; window shown {s['window_shown_s_median']:.2f} s median (min {s['window_shown_s_min']:.2f}, "
          f"target <2 s, torch imported: {s['torch_imported']}); RSS over {m['video_minutes_covered']:.0f} min of 720p "
          f"{m['rss_mb_first']:.0f}->{m['rss_mb_last']:.0f} MB (max {m['rss_mb_max']:.0f}, "
          f"{m['rss_mb_slope_per_10k_frames_second_half']:+.1f} MB/10k frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
