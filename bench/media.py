"""Media reader benchmark: sequential decode vs raw PyAV, random-access latency and exactness.

Generates index-coded H.264 videos (640x360 and 1280x720) into a temporary folder, then measures
  - sequential decode fps (decode + RGB conversion) of MediaReader.iter_frames vs a plain PyAV loop
    on the same file in the same run (best of several alternating rounds);
  - random access: latency of MediaReader.frame(i) at shuffled indices (cold: no cache hits,
    read-ahead off; and default settings), median and p95 wall time, median CPU time (all threads;
    what the access costs whatever else loads the machine), and exactness (decoded index == asked).
Prints JSON, then one summary line. Targets: ratio >= 0.8, exactness 100 %, median < 50 ms at 720p.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.media import MediaReader  # noqa: E402
from tests.videogen import decode_index, make_video  # noqa: E402


def raw_pyav_fps(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        t0 = time.perf_counter()
        n = 0
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
            n += 1
        return n / (time.perf_counter() - t0)


def reader_fps(path: Path) -> float:
    with MediaReader(path) as reader:
        t0 = time.perf_counter()
        n = sum(1 for _ in reader.iter_frames())
        return n / (time.perf_counter() - t0)


def random_access(path: Path, n_access: int, seed: int, **reader_opts) -> dict:
    with MediaReader(path, **reader_opts) as reader:
        order = random.Random(seed).sample(range(len(reader)), min(n_access, len(reader)))
        times, cpu, exact = [], [], 0
        for i in order:
            t0, c0 = time.perf_counter(), time.process_time()
            rgb = reader.frame(i)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            exact += decode_index(rgb) == i
    ms, cpu_ms = np.array(times) * 1000, np.array(cpu) * 1000
    # CPU time (all threads of this process) shows the work per access independent of machine load
    return {"accesses": len(order), "median_ms": round(float(np.median(ms)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "cpu_median_ms": round(float(np.median(cpu_ms)), 2), "exact_pct": round(100 * exact / len(order), 2)}


def bench_size(folder: Path, size: tuple[int, int], frames: int, gop: int, rounds: int,
               n_access: int) -> dict:
    path = folder / f"bench_{size[1]}p_gop{gop}.mp4"
    t0 = time.perf_counter()
    make_video(path, n=frames, fps=30, size=size, gop=gop, crf=23)
    encode_s = time.perf_counter() - t0
    raw, ours = [], []
    for _ in range(rounds):  # alternate so load changes hit both alike
        raw.append(raw_pyav_fps(path))
        ours.append(reader_fps(path))
    return {
        "file": {"size": f"{size[0]}x{size[1]}", "frames": frames, "fps": 30,
                 "codec": "h264 (libx264 crf 23)", "gop": gop, "encode_s": round(encode_s, 2)},
        "sequential": {"raw_pyav_fps": round(max(raw), 1), "reader_fps": round(max(ours), 1),
                       "ratio": round(max(ours) / max(raw), 3),
                       "ratio_median_of_rounds": round(float(np.median(np.array(ours) / np.array(raw))), 3)},
        "random_access_cold": random_access(path, n_access, 1, cache_frames=0, readahead=False),
        "random_access_default": random_access(path, n_access, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--gops", default="30,60", help="keyframe intervals of the generated videos; "
                    "the first is the one the summary line reports (30 = 1 s, as phones record)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--accesses", type=int, default=60)
    ap.add_argument("--machine", default="", help="label for the machine in the JSON")
    args = ap.parse_args(argv)
    results = {"machine": args.machine or f"{platform.node()} ({platform.processor() or platform.machine()})",
               "pyav": av.__version__, "sizes": {}}
    gops = [int(g) for g in args.gops.split(",")]
    with tempfile.TemporaryDirectory(prefix="affecttrace-bench-media-") as tmp:
        for gop in gops:
            for size in ((640, 360), (1280, 720)):
                results["sizes"][f"{size[1]}p_gop{gop}"] = bench_size(Path(tmp), size, args.frames, gop,
                                                                      args.rounds, args.accesses)
    s360, s720 = results["sizes"][f"360p_gop{gops[0]}"], results["sizes"][f"720p_gop{gops[0]}"]
    ratio = min(s["sequential"]["ratio"] for s in results["sizes"].values())
    exact = min(s["random_access_" + k]["exact_pct"] for s in results["sizes"].values()
                for k in ("cold", "default"))
    median720 = s720["random_access_cold"]["median_ms"]
    results["targets_met"] = {"ratio>=0.8": ratio >= 0.8, "exact==100%": exact == 100.0,
                              "median_720p<50ms": median720 < 50}
    print(json.dumps(results, indent=2))
    others = "".join(f"; gop {g}: 720p median "
                     f"{results['sizes'][f'720p_gop{g}']['random_access_cold']['median_ms']:.1f} ms"
                     for g in gops[1:])
    print(f"media bench: seq ratio {ratio:.2f} (360p {s360['sequential']['reader_fps']:.0f} vs "
          f"{s360['sequential']['raw_pyav_fps']:.0f} fps, 720p {s720['sequential']['reader_fps']:.0f} vs "
          f"{s720['sequential']['raw_pyav_fps']:.0f} fps); random access exact {exact:.0f}%, "
          f"720p median {median720:.1f} ms p95 {s720['random_access_cold']['p95_ms']:.1f} ms "
          f"(360p median {s360['random_access_cold']['median_ms']:.1f} ms), gop {gops[0]}{others}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
