"""Project store benchmark: open, save, journal append, peak memory on a large synthetic project.

    python bench/store.py [--videos 600] [--frames 3000000] [--annotators 4] [--compression gzip|lzf|none]

Builds (in a child process, in a temporary folder removed afterwards unless --keep) a project of
600 videos / 3 M frames with 4 human tracks per video labelled for every task (VA, EXPR, 12 AUs),
then measures in a fresh process: open, journal appends (joystick-like 1-frame edits), save after
edits touching a few tracks, save after edits touching every track, reopen, and peak RSS.
Targets (issue 2): open < 2 s, save < 1 s, peak RSS < 1 GB. Prints JSON, then one summary line.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.edits import record, set_range  # noqa: E402
from core.labels import AU_PRESETS  # noqa: E402
from core.project import Project, storage  # noqa: E402
from core.tracks import Track, TrackSource  # noqa: E402

COMPRESSIONS = {"gzip": {"compression": "gzip", "compression_opts": 1, "shuffle": True},
                "lzf": {"compression": "lzf", "shuffle": True}, "none": {}}


def frame_counts(videos: int, frames: int, rng: np.random.Generator, spread: float = 0.7,
                 least: int = 200) -> list[int]:
    """Video lengths like Aff-Wild2's (``least`` to ~15-20k frames, log-normal of ``spread``) summing to
    ``frames``; what rounding leaves over goes to the longest video."""
    w = rng.lognormal(0.0, spread, videos)
    counts = np.maximum(least, np.round(w / w.sum() * frames)).astype(np.int64)
    counts[np.argmax(counts)] += frames - counts.sum()
    return [int(c) for c in counts]


def synthetic_track(video: str, annotator: str, n: int, aus: tuple[str, ...], rng: np.random.Generator) -> Track:
    t = Track.empty(video, annotator, TrackSource.human(annotator), n, aus)
    t.va[:] = np.tanh(np.cumsum(rng.normal(0, 0.03, (n, 2)), axis=0)).astype(np.float32)
    gap = rng.integers(0, n)
    t.va[gap:gap + n // 20] = np.nan
    seg = np.repeat(rng.integers(0, 8, n // 25 + 1), 25)[:n]
    t.expr[:] = np.where(rng.random(n // 25 + 1).repeat(25)[:n] < 0.05, -1, seg)
    t.au[:] = (rng.random((n // 50 + 1, len(aus))) < 0.3).repeat(50, axis=0)[:n]
    return t


def create(folder: Path, videos: int, frames: int, annotators: int) -> dict:
    rng = np.random.default_rng(0)
    aus = AU_PRESETS["affwild2-12"].aus
    t0 = time.perf_counter()
    p = Project.create(folder, name="bench", au_set="affwild2-12")
    names = [f"ann{i + 1}" for i in range(annotators)]
    for i, n in enumerate(frame_counts(videos, frames, rng)):
        v = f"{i:04d}-{'left' if i % 7 == 0 else 'main'}"
        p.add_video(folder / "media" / f"{v}.mp4", name=v, frame_count=n, fps="30000/1001",
                    split="train" if i % 5 else "val", subject=f"s{i // 3}")
        for a in names:
            p.put_track(synthetic_track(v, a, n, aus, rng))
        p.unload(v)
    p.save()
    p.close()
    return {"create_s": time.perf_counter() - t0}


def rss_mb() -> float:
    try:
        import psutil
    except ImportError:  # a bare machine: Linux's own account
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class Clock:
    """Wall and CPU seconds of a block (CPU time shows the work itself on a shared, loaded machine)."""

    def __enter__(self) -> "Clock":
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c


def measure(folder: Path, compression: str, appends: int) -> dict:
    storage.COMPRESSION = COMPRESSIONS[compression]
    out: dict = {"rss_start_mb": rss_mb()}
    with Clock() as c:
        p = Project.open(folder)
    out["open_s"], out["open_cpu_s"] = c.wall, c.cpu
    out["rss_after_open_mb"] = rss_mb()
    videos = list(p.videos)
    tracks = [(v, n) for v in videos for n in p.track_names(v)]
    out["tracks"] = len(tracks)

    # journal: joystick-like samples, one frame per edit, on one track
    v0, a0 = tracks[0]
    n0 = p.videos[v0].frame_count
    lat = []
    sample = np.array([[0.2, -0.1]], np.float32)
    with Clock() as c:
        for i in range(appends):
            e = record(v0, a0, "va", i % n0, sample, author=a0)
            t = time.perf_counter()
            p.apply(e)
            lat.append(time.perf_counter() - t)
    lat_ms = np.array(lat) * 1e3
    out["journal"] = {"appends": appends, "rate_per_s": appends / c.wall, "cpu_ms_per_append": c.cpu / appends * 1e3,
                      "latency_ms_p50": float(np.percentile(lat_ms, 50)),
                      "latency_ms_p99": float(np.percentile(lat_ms, 99)), "latency_ms_max": float(lat_ms.max())}

    # save after edits touching a few tracks (the typical save), three times
    few, few_cpu = [], []
    for rep in range(3):
        for k in range(3):
            v, a = tracks[(rep * 97 + k * 31) % len(tracks)]
            n = p.videos[v].frame_count
            p.apply(set_range(v, a, "expr", 0, min(n, 500), rep + 1, author=a))
        p.apply(record(v0, a0, "va", 0, np.full((min(n0, 1500), 2), 0.1 * rep, np.float32), author=a0))
        with Clock() as c:
            p.save()
        few.append(c.wall)
        few_cpu.append(c.cpu)
    out["save_few_tracks_s"] = few
    out["save_few_tracks_median_s"] = statistics.median(few)
    out["save_few_tracks_cpu_s"] = statistics.median(few_cpu)

    # save after edits touching every track (each loaded, changed, rewritten)
    with Clock() as c:
        for v, a in tracks:
            p.apply(set_range(v, a, "expr", 0, 10, 4, author=a))
    out["edit_all_tracks_s"], out["edit_all_tracks_cpu_s"] = c.wall, c.cpu
    out["rss_all_loaded_mb"] = rss_mb()
    with Clock() as c:
        p.save()
    out["save_all_tracks_s"], out["save_all_tracks_cpu_s"] = c.wall, c.cpu
    p.close()
    del p

    with Clock() as c:
        q = Project.open(folder)
    out["reopen_s"], out["reopen_cpu_s"] = c.wall, c.cpu
    with Clock() as c:
        for v, a in tracks[:200]:
            q.track(v, a)
    out["load_track_ms"], out["load_track_cpu_ms"] = c.wall / 200 * 1e3, c.cpu / 200 * 1e3
    q.close()
    out["disk_mb"] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=600)
    ap.add_argument("--frames", type=int, default=3_000_000)
    ap.add_argument("--annotators", type=int, default=4)
    ap.add_argument("--appends", type=int, default=5000)
    ap.add_argument("--compression", choices=sorted(COMPRESSIONS), default="gzip")
    ap.add_argument("--keep", type=Path, help="build or reuse the project here instead of a temporary folder")
    ap.add_argument("--create-only", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--measure-only", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.create_only:
        print(json.dumps(create(args.create_only, args.videos, args.frames, args.annotators)))
        return 0
    if args.measure_only:
        print(json.dumps(measure(args.measure_only, args.compression, args.appends)))
        return 0

    tmp = None if args.keep else Path(tempfile.mkdtemp(prefix="affecttrace-bench-store-"))
    folder = (args.keep or tmp) / "project"
    me = [sys.executable, str(Path(__file__).resolve())]
    common = ["--videos", str(args.videos), "--frames", str(args.frames), "--annotators", str(args.annotators)]
    try:
        result = {"bench": "store", "videos": args.videos, "frames": args.frames, "annotators": args.annotators,
                  "compression": args.compression}
        if not (folder / "project.json").exists():
            made = subprocess.run(me + common + ["--create-only", str(folder)], check=True, capture_output=True,
                                  text=True)
            result.update(json.loads(made.stdout.splitlines()[-1]))
        # measured in a fresh process so its peak RSS is the store's, not the generator's
        got = subprocess.run(me + common + ["--appends", str(args.appends), "--compression", args.compression,
                                            "--measure-only", str(folder)], check=True, capture_output=True, text=True)
        result.update(json.loads(got.stdout.splitlines()[-1]))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    targets = {"open_s": 2.0, "save_few_tracks_median_s": 1.0, "peak_rss_mb": 1024.0}
    result["targets"] = targets
    result["load_average_1min"] = os.getloadavg()[0]
    result["cpu_count"] = os.cpu_count()
    result["pass"] = all(result[k] < v for k, v in targets.items())
    print(json.dumps(result, indent=1))
    j, r = result["journal"], result
    print(f"store ({args.videos} videos, {args.frames / 1e6:g} M frames, {r['tracks']} tracks, {args.compression}, "
          f"{r['cpu_count']} CPUs at load {r['load_average_1min']:.1f}): open {r['open_s']:.2f} s, "
          f"save {r['save_few_tracks_median_s']:.2f} s (few tracks; CPU {r['save_few_tracks_cpu_s']:.2f} s) / "
          f"{r['save_all_tracks_s']:.1f} s (all tracks; CPU {r['save_all_tracks_cpu_s']:.1f} s), "
          f"journal {j['rate_per_s']:.0f} edits/s (p99 {j['latency_ms_p99']:.2f} ms), "
          f"peak RSS {r['peak_rss_mb']:.0f} MB -> {'PASS' if r['pass'] else 'FAIL'} "
          "(open < 2 s, save < 1 s, RSS < 1 GB)")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
