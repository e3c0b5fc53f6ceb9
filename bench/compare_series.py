"""Timeline strips on an hour of video: sliding-window agreement (VA, EXPR, AU), worst segments, next
disagreement, the suggestion score and the per-frame confidence of a model track.

    python bench/compare_series.py [--minutes 60] [--fps 30] [--window-s 2] [--repeats 5]

Synthetic tracks (12 AUs) of ``minutes`` at ``fps``; each figure is the median of ``repeats`` runs.
Target (issue 8): an hour at 30 fps well under a second for each strip. Prints JSON, then one line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.compare import agreement_series, next_disagreement, worst_segments  # noqa: E402
from core.labels import AU_PRESETS  # noqa: E402
from core.modeltracks import frame_confidence  # noqa: E402
from core.suggest import rank_segments, suggestion_score  # noqa: E402
from core.tracks import Track, TrackSource  # noqa: E402


def tracks(n: int, rng: np.random.Generator) -> tuple[Track, Track]:
    aus = AU_PRESETS["affwild2-12"].aus
    ref = Track.empty("v", "fused", TrackSource.fused(), n, aus)
    ref.va[:] = np.tanh(np.cumsum(rng.normal(0, 0.02, (n, 2)), axis=0))
    ref.expr[:] = np.repeat(rng.integers(0, 8, n // 60 + 1), 60)[:n]
    ref.au[:] = (rng.random((n // 45 + 1, len(aus))) < 0.3).repeat(45, axis=0)[:n]
    model = Track.empty("v", "model", TrackSource.model("r", "h"), n, aus)
    model.va[:] = np.clip(ref.va + rng.normal(0, 0.1, (n, 2)), -1, 1)
    model.expr_prob = rng.dirichlet(np.ones(8), n).astype(np.float32)
    model.expr[:] = model.expr_prob.argmax(1)
    model.au_prob = rng.random((n, len(aus))).astype(np.float32)
    model.au[:] = model.au_prob >= 0.5
    model.va_std = rng.random((n, 2)).astype(np.float32) * 0.2
    return model, ref


def timed(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times), 4)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--window-s", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    n = int(args.minutes * 60 * args.fps)
    w = max(2, round(args.window_s * args.fps))
    model, ref = tracks(n, np.random.default_rng(0))
    series = agreement_series(model, ref, "va", w)
    res = {f"agreement_{t}_s": timed(lambda t=t: agreement_series(model, ref, t, w), args.repeats)
           for t in ("va", "expr", "au")}
    res["worst_segments_s"] = timed(lambda: worst_segments(series, 20), args.repeats)
    res["next_disagreement_s"] = timed(lambda: next_disagreement(series, n // 2), args.repeats)
    res["suggestion_score_s"] = timed(lambda: rank_segments(suggestion_score(n, model, ref, [ref], w)[0], w),
                                      args.repeats)
    res["confidence_s"] = timed(lambda: [frame_confidence(model, t) for t in ("va", "expr", "au")], args.repeats)
    out = {"bench": "compare_series", "frames": n, "fps": args.fps, "window_frames": w, "repeats": args.repeats, **res}
    print(json.dumps(out, indent=1))
    slowest = max(res, key=res.get)
    print(f"compare_series: {n} frames ({args.minutes:g} min at {args.fps:g} fps): slowest {slowest} "
          f"{res[slowest] * 1000:.0f} ms (VA {res['agreement_va_s'] * 1000:.0f} ms, EXPR "
          f"{res['agreement_expr_s'] * 1000:.0f} ms, AU {res['agreement_au_s'] * 1000:.0f} ms, suggestions "
          f"{res['suggestion_score_s'] * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
