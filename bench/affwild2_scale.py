"""Aff-Wild2 at full size: label import, crop decoding, face-cache size, cold reads for training, evaluate/compare.

    python bench/affwild2_scale.py [--videos 558] [--frames 2800000] [--crop-sample 20000] [--work DIR] [--keep]
                                   [--skip crops,evaluate]

Generates, under a temporary folder on --work (default: the repository's parent, /work here; the
trees need ~0.5 GB), a label tree of Aff-Wild2's size in BOTH layouts (558 videos, 2.8 M frames; VA for
every video, EXPR for 85 %, AU for 50 %; train/validation splits; _left/_right pairs sharing a media
name; "not labelled" runs) and `cropped_aligned` JPEGs (112x112, smooth synthetic faces, ~5 KB like the
real ones) for a sample of whole videos of about --crop-sample crops. Writing all 2.8 M crops would take
~14 GB and most of an hour here; the crop figures are rates and sizes per crop, extrapolated to 2.8 M
as stated in the JSON. Each phase runs in its own process (its peak RSS is reported):

  import     import-affwild2 of each layout into a project (labels only: no media)        <= 60 s
  crops      decode + resize of the JPEGs (FaceCache's reader), 1 process and a pool      >= 1,500 / s per core
  caches     the sample written as HDF5 face caches (FaceCacheWriter): size on disk, rate
  loader     cold reads for training: page cache dropped (/proc/sys/vm/drop_caches where writable,
             and posix_fadvise DONTNEED per cache file), then the trainer's loader (FaceFrames +
             batch_loader, its default workers) over every crop, shuffled                >= 10,000 / s
  layouts    the same caches rewritten with each crop layout (gzip/lzf/raw, 1/16/64 crops a
             chunk): bytes per crop, cold reads shuffled and in order, warm reads
  evaluate   evaluate (VA, EXPR, AU) and compare of a model track against the imported
             track over every frame of every video                                       <= 10 s
  RSS        every phase                                                                 < 2 GB

Prints JSON, then one summary line.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.affwild2_tree import generate, write_crops  # noqa: E402

FULL_FRAMES = 2_800_000
TARGETS = {"label_import_s": 60.0, "crop_decode_per_core": 1500.0, "cold_read_per_s": 10_000.0,
           "evaluate_s": 10.0, "rss_mb": 2048.0}


def _rss_now_mb() -> float:
    with open("/proc/self/status") as f:
        return round(next(int(x.split()[1]) for x in f if x.startswith("VmRSS")) / 1024, 1)


def _rss_mb() -> dict:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(me, 1), "children_peak_rss_mb": round(kids, 1)}


def phase_import(work: Path) -> dict:
    from core.interchange import import_affwild2

    out = {}
    for layout in ("2022", "2020"):
        proj = work / f"proj{layout}"
        crops = work / "cropped_aligned"
        t0, c0 = time.perf_counter(), time.process_time()
        report = import_affwild2(work / layout, proj, crops=crops, fps=30)
        out[layout] = {"seconds": round(time.perf_counter() - t0, 2), "cpu_s": round(time.process_time() - c0, 2),
                       "videos": len(report.videos), "files": report.files}
    return out


def _decode(args: tuple[str, int, list[int]]) -> int:
    from core.faces import FaceCache

    folder, n, frames = args
    with FaceCache(folder, n_frames=n) as cache:
        for k in range(0, len(frames), 256):
            cache.crops(frames[k:k + 256])
    return len(frames)


def phase_crops(work: Path) -> dict:
    """Decode + resize (FaceCache's reader of cropped_aligned folders) from the page cache, 1 process and a pool."""
    import multiprocessing as mp

    from core.faces import FaceCache

    jobs = []
    for d in sorted((work / "cropped_aligned").iterdir()):
        with FaceCache(d) as c:
            jobs.append((str(d), c.n_frames, c.frames.tolist()))
    total = sum(len(j[2]) for j in jobs)
    for j in jobs:  # warm the page cache: this measures decoding, not the disk
        for p in Path(j[0]).iterdir():
            p.read_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    for j in jobs:
        _decode(j)
    one = total / (time.perf_counter() - t0)
    one_cpu = total / (time.process_time() - c0)
    procs = os.cpu_count() or 1
    with mp.get_context("spawn").Pool(procs) as pool:
        pool.map(_decode, jobs[:procs])  # start-up outside the timing
        t0 = time.perf_counter()
        pool.map(_decode, jobs, chunksize=1)
        many = total / (time.perf_counter() - t0)
    return {"crops": total, "per_core_per_s": round(one), "per_cpu_second": round(one_cpu), "pool_processes": procs,
            "pool_per_s": round(many),
            "full_2_8M_one_core_s": round(FULL_FRAMES / one), "full_2_8M_pool_s": round(FULL_FRAMES / many)}


def phase_caches(work: Path) -> dict:
    """The sample crops written as HDF5 face caches (FaceCacheWriter, the `faces` command's format) into a
    project of the sample videos with their labels, for the loader phase."""
    from core.faces import FaceCache, FaceCacheWriter
    from core.faces.backends.base import Face
    from core.project import Project

    src = Project.open(work / "proj2022", readonly=True)
    folder = work / "sample_proj"
    p = Project.create(folder, au_set=src.au_set)
    dirs = sorted((work / "cropped_aligned").iterdir())
    t0 = time.perf_counter()
    crops = 0
    lm = np.zeros((68, 2), np.float32)
    for d in dirs:
        v = d.name
        e = src.videos[v]
        p.add_video(work / f"{v}.mp4", name=v, frame_count=e.frame_count, fps=e.fps)
        p.put_track(src.track(v, "affwild2"))
        with FaceCache(d, n_frames=e.frame_count) as jpeg, \
                FaceCacheWriter(Path(p.cache_dir("faces")) / f"{v}.h5", e.frame_count, "cropped_aligned") as w:
            have = set(jpeg.frames.tolist())
            for k in range(0, e.frame_count, 256):
                idx = [i for i in range(k, min(k + 256, e.frame_count)) if i in have]
                block = dict(zip(idx, jpeg.crops(idx))) if idx else {}
                for i in range(k, min(k + 256, e.frame_count)):
                    face = Face(np.zeros(4, np.float32), lm, 1.0) if i in block else None
                    w.add(i, face, block.get(i))
            w.finish()
            crops += len(have)
    seconds = time.perf_counter() - t0
    p.save()
    p.close()
    src.close()
    size = sum(f.stat().st_size for f in (folder / "cache" / "faces").glob("*.h5"))
    return {"crops": crops, "seconds": round(seconds, 1), "per_s": round(crops / seconds),
            "cache_bytes": size, "cache_bytes_per_crop": round(size / crops, 1),
            "full_2_8M_cache_gb": round(size / crops * FULL_FRAMES / 1e9, 2)}


def _evict(files: list[Path]) -> dict:
    """Drop these files' pages from the page cache (clean pages: posix_fadvise DONTNEED), and say how much
    of them was resident before and after (fincore where present)."""
    def resident() -> int | None:
        if not shutil.which("fincore"):
            return None
        r = subprocess.run(["fincore", "-b", "-n", "-o", "RES"] + [str(f) for f in files], capture_output=True,
                           text=True)
        return sum(int(x) for x in r.stdout.split() if x.isdigit()) if r.returncode == 0 else None

    before = resident()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        how = "drop_caches"
    except OSError:
        how = "posix_fadvise(DONTNEED) per file (drop_caches not writable)"
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return {"how": how, "resident_bytes_before": before, "resident_bytes_after": resident()}


def _loader_pass(project_folder: Path, files: list[Path], workers: int | None, cold: bool = True,
                 shuffle: bool = True) -> dict:
    """One pass over every crop through the trainer's loader (batch_loader: workers fetch whole batches with
    FaceFrames.get_batch), shuffled like training or in order like validation and predict."""
    from core.data import FaceFrames
    from core.data.batches import batch_loader
    from core.data.loader import default_workers
    from core.project import Project

    p = Project.open(project_folder, readonly=True)
    ds = FaceFrames(p, "affwild2", split=None, raw=True, preload=False, require_labels=False)
    workers = default_workers() if workers is None else workers
    if cold:
        evicted = _evict(files)
    else:  # warm: every file read once, so the pass measures the CPU side alone
        evicted = {"how": "warm: files read into the page cache first"}
        for f in files:
            f.read_bytes()
    order = np.random.default_rng(0).permutation(len(ds)).tolist() if shuffle else list(range(len(ds)))
    loader = batch_loader(ds, order, 256, workers=workers)
    t0 = time.perf_counter()
    n = n_first = 0
    first = None
    for batch in loader:
        n += len(batch["image"])
        if first is None:  # worker start-up (a fresh interpreter importing torch) is not reading
            first, n_first = time.perf_counter(), n
    end = time.perf_counter()
    ds.close()
    p.close()
    steady = (n - n_first) / (end - first) if first is not None and end > first else float("nan")
    return {"workers": workers, "order": "shuffled" if shuffle else "in order", "crops": n,
            "seconds": round(end - t0, 2), "per_s": round(n / (end - t0)),
            "first_batch_s": round((first or t0) - t0, 2), "steady_per_s": round(steady),
            "page_cache": evicted}


def phase_loader(work: Path) -> dict:
    """Cold reads (page cache dropped first) through the training loader, shuffled, every crop once: HDF5
    face caches, then the cropped_aligned JPEG folders themselves (what an imported project reads)."""
    h5 = sorted((work / "sample_proj" / "cache" / "faces").glob("*.h5"))
    out = {"h5_default_workers": _loader_pass(work / "sample_proj", h5, None),
           "h5_2_workers": _loader_pass(work / "sample_proj", h5, 2),
           "h5_warm_2_workers": _loader_pass(work / "sample_proj", h5, 2, cold=False)}
    from core.project import Project

    def crops_from(folders: dict[str, str | None] | None) -> dict[str, str | None]:
        """Point each video's crops at its JPEG folder (``folders`` None) or back; returns what was there."""
        import dataclasses

        with Project.open(work / "sample_proj") as jp:
            was = {v: e.crops for v, e in jp.videos.items()}
            for v in list(jp.videos):
                where = str(work / "cropped_aligned" / v) if folders is None else folders[v]
                jp.update_video(dataclasses.replace(jp.videos[v], crops=where))
            jp.save()
        return was

    caches = crops_from(None)  # the same videos read from their JPEG folders
    jpgs = sorted((work / "cropped_aligned").rglob("*.jpg"))
    out["jpeg_default_workers"] = _loader_pass(work / "sample_proj", jpgs, None)
    out["jpeg_2_workers"] = _loader_pass(work / "sample_proj", jpgs, 2)
    crops_from(caches)  # the face caches again, for the layouts phase
    return out


def phase_evaluate(work: Path) -> dict:
    """A model track (the labels with noise and lag) on every video, then evaluate and compare over all frames."""
    from core.cli.evaluate_cmd import evaluate_sources
    from core.compare import comparison_rows
    from core.project import Project
    from core.tracks import Track, TrackSource

    folder = work / "proj2022"
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    with Project.open(folder) as p:
        for v in p.videos:
            ref = p.track(v, "affwild2")
            m = Track.empty(v, "model", TrackSource.model("bench", "0" * 64), ref.n_frames, p.au_set)
            m.va[:] = np.clip(np.nan_to_num(ref.va, nan=0.0) + rng.normal(0, 0.2, ref.va.shape), -1, 1)
            m.expr[:] = np.where(rng.random(ref.n_frames) < 0.6, np.maximum(ref.expr, 0),
                                 rng.integers(0, 8, ref.n_frames))
            m.au[:] = np.where(rng.random(ref.au.shape) < 0.75, np.maximum(ref.au, 0), 1 - np.maximum(ref.au, 0))
            p.put_track(m)
            p.unload(v)
        p.save()
    setup = time.perf_counter() - t0
    out: dict = {"setup_model_track_s": round(setup, 1)}
    out["rss_after_setup_mb"] = _rss_now_mb()
    for task in ("va", "expr", "au"):
        t0, c0 = time.perf_counter(), time.process_time()
        res = evaluate_sources(f"{folder}:model", f"{folder}:affwild2", task)
        out[f"evaluate_{task}_s"] = round(time.perf_counter() - t0, 2)
        out[f"evaluate_{task}_cpu_s"] = round(time.process_time() - c0, 2)
        out[f"rss_after_evaluate_{task}_mb"] = _rss_now_mb()
        out[f"evaluate_{task}_frames"] = res["overall"]["frames"]
        out[f"evaluate_{task}_score"] = res["overall"]["score"]
    t0, c0 = time.perf_counter(), time.process_time()
    with Project.open(folder, readonly=True) as p:
        rows = comparison_rows(p, ["model"], "affwild2")
    out["compare_all_tasks_s"] = round(time.perf_counter() - t0, 2)
    out["compare_all_tasks_cpu_s"] = round(time.process_time() - c0, 2)
    out["rss_after_compare_mb"] = _rss_now_mb()
    out["compare_rows"] = len(rows)
    out["breakdown"] = _evaluate_breakdown(folder)
    return out


def _evaluate_breakdown(folder: Path) -> dict:
    """Where evaluate's time goes: opening the project, reading the 2 x 558 tracks, the metrics."""
    from core.interchange.tracksel import pick_tracks
    from core.metrics import evaluate_pairs
    from core.project import Project

    t0 = time.perf_counter()
    p = Project.open(folder, readonly=True)
    t1 = time.perf_counter()
    pred, ref = pick_tracks(p, track="model"), pick_tracks(p, track="affwild2")
    t2 = time.perf_counter()
    out = {"open_s": round(t1 - t0, 2), "read_tracks_s": round(t2 - t1, 2), "tracks": len(pred) + len(ref)}
    for task in ("va", "expr", "au"):
        t = time.perf_counter()
        evaluate_pairs([(pred[v], ref[v]) for v in ref], task)
        out[f"metrics_{task}_s"] = round(time.perf_counter() - t, 2)
    p.close()
    return out


LAYOUTS = {"gzip_1": (1, "gzip"), "lzf_1": (1, "lzf"), "raw_1": (1, None), "gzip_16": (16, "gzip"),
           "lzf_16": (16, "lzf"), "raw_16": (16, None), "raw_64": (64, None)}  # crops per chunk, compression


def phase_layouts(work: Path) -> dict:
    """The sample's face caches rewritten with each crop layout (LAYOUTS; the writer's default is raw_16,
    gzip_1 the earlier one), then read through the trainer's loader: cold shuffled and in order with the
    default workers, cold shuffled with 2, and warm shuffled (the CPU side alone)."""
    from core.data.loader import default_workers
    from core.faces import FaceCache, FaceCacheWriter
    from core.faces.backends.base import Face
    from core.project import Project

    with Project.open(work / "sample_proj", readonly=True) as p:  # (JPEG folders would be measured instead)
        assert not any(e.crops for e in p.videos.values()), "the sample project reads JPEG folders, not its caches"
    faces = work / "sample_proj" / "cache" / "faces"
    originals = work / "layout_originals"
    if not originals.exists():
        shutil.copytree(faces, originals)
    lm = np.zeros((68, 2), np.float32)
    out: dict = {"default_workers": default_workers()}
    for name, layout in LAYOUTS.items():
        t0 = time.perf_counter()
        crops = 0
        for src in sorted(originals.glob("*.h5")):
            with FaceCache(src) as c, FaceCacheWriter(faces / src.name, c.n_frames, c.backend, overwrite=True,
                                                      crop_layout=layout) as w:
                have = dict(zip(c.frames.tolist(), range(len(c.frames))))
                every = c.all_crops()
                for i in range(c.n_frames):
                    w.add(i, Face(np.zeros(4, np.float32), lm, 1.0) if i in have else None, every[have[i]]
                          if i in have else None)
                w.finish()
                crops += len(c.frames)
        write_s = time.perf_counter() - t0
        files = sorted(faces.glob("*.h5"))
        size = sum(f.stat().st_size for f in files)
        out[name] = {"crops_per_chunk": layout[0], "compression": layout[1] or "none",
                     "bytes_per_crop": round(size / crops), "full_2_8M_gb": round(size / crops * FULL_FRAMES / 1e9, 1),
                     "write_per_s": round(crops / write_s),
                     "cold_shuffled": _loader_pass(work / "sample_proj", files, None),
                     "cold_in_order": _loader_pass(work / "sample_proj", files, None, shuffle=False),
                     "cold_shuffled_2_workers": _loader_pass(work / "sample_proj", files, 2),
                     "warm_shuffled": _loader_pass(work / "sample_proj", files, None, cold=False)}
    for src in originals.glob("*.h5"):  # the default layout back for the phases after
        shutil.copy(src, faces / src.name)
    return out


PHASES = {"import": phase_import, "crops": phase_crops, "caches": phase_caches, "loader": phase_loader,
          "layouts": phase_layouts, "evaluate": phase_evaluate}


def run_phase(name: str, work: Path) -> dict:
    """Run a phase in a fresh, niced process; its JSON (with its peak RSS) comes back on stdout."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--work", str(work)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=lambda: os.nice(10))
    if r.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{r.stderr[-3000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    return out


def summary(res: dict) -> str:
    def mark(ok: bool) -> str:
        return "ok" if ok else "MISSED"
    parts = [f"affwild2_scale: {res['tree']['videos']} videos / {res['tree']['frames']:,} frames"]
    if "import" in res:
        imp = max(res["import"][k]["seconds"] for k in ("2020", "2022"))
        imp_cpu = max(res["import"][k]["cpu_s"] for k in ("2020", "2022"))
        parts.append(f"label import {imp:.1f} s, {imp_cpu:.1f} s CPU ({mark(imp <= TARGETS['label_import_s'])})")
    if "crops" in res:
        dec = res["crops"]["per_core_per_s"]
        parts.append(f"crop decode {dec:,}/s per core ({mark(dec >= TARGETS['crop_decode_per_core'])}), "
                     f"{res['crops']['pool_per_s']:,}/s with {res['crops']['pool_processes']} processes")
    if "caches" in res:
        parts.append(f"face caches {res['caches']['full_2_8M_cache_gb']} GB for 2.8 M")
    if "loader" in res:
        cold = res["loader"]["h5_default_workers"]["steady_per_s"]
        parts.append(f"cold loader read {cold:,}/s shuffled ({mark(cold >= TARGETS['cold_read_per_s'])})")
    if "layouts" in res:
        parts.append("cold shuffled / in order / warm per layout: " + ", ".join(
            f"{k} {v['cold_shuffled']['steady_per_s']:,}/{v['cold_in_order']['steady_per_s']:,}/"
            f"{v['warm_shuffled']['steady_per_s']:,} ({v['bytes_per_crop']:,} B)"
            for k, v in res["layouts"].items() if isinstance(v, dict)))
    if "evaluate" in res:
        ev = max(res["evaluate"][f"evaluate_{t}_s"] for t in ("va", "expr", "au"))
        cmp = res["evaluate"]["compare_all_tasks_s"]
        parts.append(f"evaluate {ev:.1f} s, compare {cmp:.1f} s ({mark(max(ev, cmp) <= TARGETS['evaluate_s'])})")
    rss = res["peak_rss_mb"]
    parts.append(f"peak RSS {rss:.0f} MB ({mark(rss < TARGETS['rss_mb'])})")
    return "; ".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=558)
    ap.add_argument("--frames", type=int, default=FULL_FRAMES)
    ap.add_argument("--crop-sample", type=int, default=20_000)
    ap.add_argument("--work", type=Path, default=REPO.parent, help="folder for the temporary tree (needs ~1 GB)")
    ap.add_argument("--keep", action="store_true", help="keep the generated tree and projects")
    ap.add_argument("--skip", default="", help="comma-separated phases to leave out (caches needs import; "
                    "loader and layouts need caches)")
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if set(args.skip.split(",")) - set(PHASES) - {""}:
        ap.error(f"--skip: phases are {', '.join(PHASES)}")
    if args.phase:  # a child: one phase, JSON on the last stdout line
        out = PHASES[args.phase](args.work)
        out.update(_rss_mb())
        print(json.dumps(out))
        return 0
    free = shutil.disk_usage(args.work).free
    if free < 2e9:
        raise SystemExit(f"{args.work}: only {free / 1e9:.1f} GB free; the bench needs ~1 GB (choose --work)")
    work = Path(tempfile.mkdtemp(prefix="affwild2_scale-", dir=args.work))
    res: dict = {"work": str(work), "disk_free_gb": round(free / 1e9, 1), "cores": os.cpu_count(),
                 "load_avg_start": os.getloadavg()}
    try:
        tree = generate(work, args.videos, args.frames)
        res["crop_sample"] = write_crops(work, tree.pop("names"), tree.pop("counts"), args.crop_sample)
        res["tree"] = tree
        skip = {x for x in args.skip.split(",") if x}
        for name in ("import", "crops", "caches", "loader", "layouts", "evaluate"):
            if name not in skip:
                res[name] = run_phase(name, work)
        res["load_avg_end"] = os.getloadavg()
        res["peak_rss_mb"] = max(max(r.get("peak_rss_mb", 0), r.get("children_peak_rss_mb", 0))
                                 for r in (res[k] for k in PHASES if k in res))
        res["targets"] = TARGETS
        res["extrapolation"] = (f"crop figures measured on {res['crop_sample']['crops']:,} crops of "
                                f"{len(res['crop_sample']['videos'])} whole videos; full-size figures = per-crop "
                                f"rate or size x {FULL_FRAMES:,}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(res, indent=2, default=str))
    print(summary(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
