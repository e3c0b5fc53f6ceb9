"""`affecttrace evaluate`: ABAW scores of predictions against reference labels."""
from __future__ import annotations

import argparse
from typing import Any

from ..errors import AffectTraceError
from ..jobevents import json_safe
from . import options as opt
from .reporting import add_events_flag, report
from .tool_cmds import AU_THRESHOLD_HELP

SOURCES = """sources (--pred, --ref):
  FILE.txt              one Aff-Wild2 label file (video = file name without .txt)
  FOLDER                every .txt below it (a dataset tree: the task's folder only)
  PROJECT               a project: each video's 'affwild2' track, else its only track
  PROJECT:TRACK         a project track by name, e.g. myproj:fused or myproj:run-3
  PROJECT:@ANNOTATOR    an annotator's human track, e.g. demo:@ann1
videos are matched by name; reference videos without a prediction are listed and left out."""


def register(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="score predictions against reference labels (ABAW metrics)",
                       description="Compute the ABAW score of a task and its parts overall (all frames pooled) "
                       "and per video. Unlabelled reference frames are left out.",
                       epilog=SOURCES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, choices=("va", "expr", "au"))
    p.add_argument("--pred", required=True, metavar="SOURCE", help="predictions (see below)")
    p.add_argument("--ref", required=True, metavar="SOURCE", help="reference labels (see below)")
    p.add_argument("--abaw", type=int, choices=(2020, 2022), default=2022,
                   help="2020: EXPR 0.67 F1 + 0.33 acc (7 classes), AU 0.5 F1 + 0.5 acc; "
                   "2022 (and later): EXPR macro F1 (8 classes), AU mean F1 (default)")
    p.add_argument("--au-threshold", type=opt.probability, default=None, metavar="T", help=AU_THRESHOLD_HELP)
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    add_events_flag(p)
    p.set_defaults(func=run)


def evaluate_sources(pred: str, ref: str, task: str, abaw: int = 2022, au_threshold: float | None = None) -> dict:
    """The evaluate command as a function: result dict with overall, videos, missing/extra videos."""
    from ..interchange.sources import load_source, match_videos
    from ..interchange.tooldata import au_rule
    from ..metrics import evaluate_pairs

    opened = []
    try:
        p_tracks, p_proj = load_source(pred, task, au_threshold)
        opened.append(p_proj)
        r_tracks, r_proj = load_source(ref, task, au_threshold)
        opened.append(r_proj)
        both, missing, extra = match_videos(p_tracks, r_tracks)
        if not both:
            raise AffectTraceError(f"no video in common between --pred ({len(p_tracks)} videos) and --ref "
                                   f"({len(r_tracks)} videos)")
        try:
            res = evaluate_pairs([(p_tracks[v], r_tracks[v]) for v in both], task, abaw)
        except ValueError as e:
            raise AffectTraceError(str(e)) from e
        if task == "au":
            res["au_rules"] = {side: f"{t.source.tool}: {au_rule(t, au_threshold)}"
                               for side, t in (("pred", p_tracks[both[0]]), ("ref", r_tracks[both[0]]))
                               if t.source.tool is not None}
    finally:
        for p in opened:
            if p is not None:
                p.close()
    res["missing_pred"] = missing
    res["extra_pred"] = extra
    return json_safe(res)


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)


def _parts(task: str) -> list[str]:
    return {"va": ["ccc_valence", "ccc_arousal", "pearson_valence", "pearson_arousal", "rmse_valence",
                   "rmse_arousal", "sagr_valence", "sagr_arousal"],
            "expr": ["f1", "accuracy"], "au": ["f1", "accuracy"]}[task]


def run(args: argparse.Namespace) -> int:
    res = evaluate_sources(args.pred, args.ref, args.task, args.abaw, args.au_threshold)
    report(args, res, _text(args, res))
    return 0


def _text(args: argparse.Namespace, res: dict) -> list[str]:
    o = res["overall"]
    lines = [f"{args.task.upper()} (ABAW {args.abaw}) over {o['videos']} video(s), {o['frames']} frames: "
             f"score {_fmt(o['score'])}"]
    lines += [f"  {k:16s} {_fmt(o[k])}" for k in _parts(args.task)]
    per = o.get("per_class_f1") or o.get("per_au_f1") or {}
    if per:
        lines.append("  F1 per " + ("class: " if args.task == "expr" else "AU: ")
                     + ", ".join(f"{k} {_fmt(v)}" for k, v in per.items()))
    lines += [f"  AU of {side}: {rule}" for side, rule in res.get("au_rules", {}).items()]
    cols = _parts(args.task)[:2]
    lines.append(f"\n{'video':30s} {'frames':>7s} {'score':>8s} " + " ".join(f"{c:>12s}" for c in cols))
    for v, r in res["videos"].items():
        lines.append(f"{v[:30]:30s} {r['frames']:7d} {_fmt(r['score']):>8s} "
                     + " ".join(f"{_fmt(r[c]):>12s}" for c in cols))
    if res["missing_pred"]:
        lines.append(f"\nno prediction for {len(res['missing_pred'])} reference video(s): "
                     + ", ".join(res["missing_pred"][:10]))
    return lines
