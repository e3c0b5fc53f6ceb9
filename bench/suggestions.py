"""Do suggested segments teach a model more than random ones? Active-learning check on the demo.

    python bench/suggestions.py [--seeds 3] [--k 4] [--start 4] [--epochs 8] [--seconds 60]

For each seed: a demo video (train) and a held-out demo video of another seed (validation, fully
labelled from its ground truth); on the train video, ``--start`` random 2 s segments are labelled from
the ground truth (track 'labels'; the simulated annotators are removed). mt-tiny is trained on them
and predicts the train video; then
  suggested: the ``--k`` unlabelled segments that `affecttrace suggest` ranks highest (core.suggest),
  random:    ``--k`` unlabelled segments drawn at random,
are labelled from the ground truth, and mt-tiny is trained again from scratch (same seed, same
recipe) on each. The figure is the validation score (ABAW multi-task: VA CCC + EXPR F1 + AU F1 on the
held-out video) of the last epoch. Prints JSON (per seed and seed-averaged), then one summary line.
Figures are printed, not asserted: with few seeds the spread is large. Minutes on a 2-core CPU.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.agreement.report import video_fps  # noqa: E402
from core.cli.main import main as cli  # noqa: E402
from core.demo import create_demo, load_ground_truth  # noqa: E402
from core.faces import process_project  # noqa: E402
from core.project import Project  # noqa: E402
from core.suggest import video_suggestions  # noqa: E402
from core.tracks import Track, TrackSource  # noqa: E402

SEGMENT_S = 2.0
LABELS = "labels"
METRICS = ("val_score", "val_va", "val_expr", "val_au")


def build(root: Path, seconds: float, val_seconds: float) -> Path:
    """The train video 'demo' (no labels yet) and the held-out 'heldout' (split val, labelled)."""
    p = create_demo(root / "p", seed=0, duration_s=seconds)
    try:
        for name in list(p.track_names("demo")):
            p.delete_track("demo", name)
        create_demo(root / "b", seed=1, duration_s=val_seconds).close()
        p.add_video(root / "b" / "media" / "demo.mp4", name="heldout", split="val", subject="b")
        for folder, video in ((root / "p", "demo"), (root / "b", "heldout")):
            truth = load_ground_truth(folder)
            np.save(root / f"{video}.npy", truth.landmarks)
            process_project(p, backend="reference", videos=[video], reference=root / f"{video}.npy")
        held = load_ground_truth(root / "b").track
        held.video, held.name, held.source = "heldout", LABELS, TrackSource.human("bench")
        p.put_track(held)
        p.put_track(Track.empty("demo", LABELS, TrackSource.human("bench"), p.videos["demo"].frame_count,
                                p.au_set))
        p.save()
    finally:
        p.close()
    return root / "p"


def label(folder: Path, truth: Track, segments: list[int], seg: int) -> None:
    """Copy the ground truth of the given segment indices into the 'labels' track of 'demo'."""
    with Project.open(folder) as p:
        t = p.track("demo", LABELS).copy()
        for i in segments:
            s = slice(i * seg, (i + 1) * seg)
            t.va[s], t.expr[s], t.au[s] = truth.va[s], truth.expr[s], truth.au[s]
        p.put_track(t)
        p.save()


def labelled_segments(folder: Path, seg: int) -> set[int]:
    with Project.open(folder, readonly=True) as p:
        lab = p.track("demo", LABELS).labelled("expr")
    return {i for i in range(int(np.ceil(len(lab) / seg))) if lab[i * seg:(i + 1) * seg].any()}


def train(folder: Path, run: str, seed: int, epochs: int) -> dict[str, float]:
    """Train mt-tiny from scratch on the 'labels' track; the last epoch's validation figures."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli(["train", str(folder), "--preset", "mt-tiny", "--label-track", LABELS, "--epochs", str(epochs),
                  "--batch-size", "16", "--run-id", run, "--seed", str(seed)])
    if rc != 0:
        raise RuntimeError(f"training {run} failed: {err.getvalue().strip().splitlines()[-1:]}")
    with open(folder / "models" / run / "history.csv", newline="") as f:
        last = list(csv.DictReader(f))[-1]
    return {k: float(last[k]) for k in METRICS if last.get(k) not in (None, "")}


def one_seed(root: Path, template: Path, seed: int, args: argparse.Namespace) -> dict:
    rng = np.random.default_rng(seed)
    folder = Path(shutil.copytree(template, root / f"s{seed}"))
    truth = load_ground_truth(template.parent / "p").track
    with Project.open(template, readonly=True) as p:
        seg = int(round(SEGMENT_S * video_fps(p, "demo")))
    n_seg = int(np.ceil(truth.n_frames / seg))
    start = sorted(rng.choice(n_seg, args.start, replace=False).tolist())
    label(folder, truth, start, seg)
    base = train(folder, "base", seed, args.epochs)
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli(["predict", str(folder), "--checkpoint", "base", "--track-name", "model", "--video", "demo"]) == 0
    with Project.open(folder, readonly=True) as p:
        ranked = video_suggestions(p, "demo", "model", LABELS, count=None, segment_s=SEGMENT_S).segments
    have = labelled_segments(folder, seg)
    suggested = [s.start // seg for s in ranked if s.start // seg not in have][: args.k]
    free = [i for i in range(n_seg) if i not in have]
    random = sorted(rng.choice(free, args.k, replace=False).tolist())
    out = {"seed": seed, "start_segments": start, "suggested": suggested, "random": random, "base": base}
    for arm, picks in (("suggested", suggested), ("random", random)):
        arm_folder = Path(shutil.copytree(folder, root / f"s{seed}-{arm}"))
        label(arm_folder, truth, picks, seg)
        out[f"{arm}_scores"] = train(arm_folder, arm, seed, args.epochs)
    return out


def _mean(runs: list[dict], key: str, metric: str) -> float:
    vals = [r[key].get(metric, np.nan) for r in runs]
    return float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--k", type=int, default=4, help="segments added per arm")
    ap.add_argument("--start", type=int, default=4, help="segments labelled at the start")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0, help="train video length")
    ap.add_argument("--val-seconds", type=float, default=30.0)
    ap.add_argument("--keep", action="store_true", help="keep the temporary projects")
    args = ap.parse_args()
    t0 = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="affecttrace-bench-suggest-"))
    try:
        template = build(root / "template", args.seconds, args.val_seconds)
        runs = [one_seed(root, template, s, args) for s in range(args.seeds)]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    mean = {arm: {m: _mean(runs, f"{arm}_scores" if arm != "base" else "base", m) for m in METRICS}
            for arm in ("base", "suggested", "random")}
    gain = {arm: mean[arm]["val_score"] - mean["base"]["val_score"] for arm in ("suggested", "random")}
    wins = sum(r["suggested_scores"].get("val_score", np.nan) > r["random_scores"].get("val_score", np.nan)
               for r in runs)
    report = {"bench": "suggestions", "seeds": args.seeds, "k": args.k, "start": args.start, "epochs": args.epochs,
              "train_seconds": args.seconds, "mean": mean, "gain": gain, "suggested_beats_random": wins,
              "runs": runs, "wall_s": round(time.perf_counter() - t0, 1), "root": str(root) if args.keep else None}
    print(json.dumps(report, indent=1, default=float))
    print(f"suggestions: +{args.k} suggested segments raise the validation score by {gain['suggested']:+.3f}, "
          f"+{args.k} random by {gain['random']:+.3f} (mean of {args.seeds} seeds; suggested ahead in "
          f"{wins}/{args.seeds}); {report['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
