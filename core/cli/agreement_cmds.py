"""`affecttrace agreement` (annotator agreement tables and lags) and `affecttrace fuse` (gold standard)."""
from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ..agreement.defaults import DEFAULT_MAX_LAG_S
from ..errors import AffectTraceError
from . import options as opt
from .reporting import add_events_flag, progress, report

if TYPE_CHECKING:
    from ..project import Project

LAG_HELP = ("what anchors the lags: 'labels' (default: the annotators' expression/AU labels, made frame by "
            "frame without lag; relative lags where there are none), 'none' (relative: earliest annotator 0 s), "
            "or a track name (its VA is taken as frame-synchronous, e.g. a model track)")


def register(sub: Any) -> None:
    p = sub.add_parser("agreement", help="annotator agreement per video, task and annotator, with reaction lags",
                       description="VA: pairwise CCC and Pearson, ICC (Shrout-Fleiss forms), Cronbach's alpha, "
                       "Krippendorff's alpha (interval). EXPR and each AU: pairwise Cohen's kappa, Fleiss' kappa, "
                       "Krippendorff's alpha (nominal). Reaction lags of the VA traces (bounded search).")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--video", action="append", metavar="V", help="only this video (repeatable)")
    p.add_argument("--task", action="append", choices=("va", "expr", "au"), help="only this task (repeatable)")
    p.add_argument("--max-lag", type=opt.nonneg, default=DEFAULT_MAX_LAG_S, metavar="S",
                   help=f"largest lag searched (default {DEFAULT_MAX_LAG_S:g} s)")
    p.add_argument("--lag-reference", default="labels", metavar="labels|none|TRACK", help=LAG_HELP)
    p.add_argument("--json", action="store_true", help="print everything as JSON")
    p.set_defaults(func=run_agreement)

    p = sub.add_parser("fuse", help="fuse the annotators into a gold-standard track",
                       description="mean / ewe: VA by per-frame mean or the evaluator weighted estimator (weights: "
                       "Pearson r of each annotator with the mean of the others); expressions and AUs by majority "
                       "vote. vote: only expressions and AUs. The track records its recipe (methods, annotators, "
                       "weights, lags).")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--method", choices=("mean", "ewe", "vote"), default="ewe")
    p.add_argument("--task", action="append", choices=("va", "expr", "au"), help="only this task (repeatable)")
    p.add_argument("--lag-compensate", action="store_true", help="shift each VA trace by its estimated lag first")
    p.add_argument("--max-lag", type=opt.nonneg, default=DEFAULT_MAX_LAG_S, metavar="S",
                   help=f"largest lag searched (default {DEFAULT_MAX_LAG_S:g} s)")
    p.add_argument("--lag-reference", default="labels", metavar="labels|none|TRACK", help=LAG_HELP)
    p.add_argument("--video", action="append", metavar="V", help="only this video (repeatable)")
    p.add_argument("--name", default="fused", help="name of the fused track (default 'fused')")
    add_events_flag(p)
    p.set_defaults(func=run_fuse)


def _ref(arg: str) -> str | None:
    return None if arg == "labels" else arg


def _f(v: Any) -> str:
    return "  n/a" if v is None else f"{v:5.2f}"


def _videos(project: Project, wanted: list[str] | None) -> list[str]:
    if not wanted:
        return list(project.videos)
    unknown = [v for v in wanted if v not in project.videos]
    if unknown:
        raise AffectTraceError(f"no video {unknown[0]!r} in the project", project.folder)
    return wanted


def _print_task(task: str, t: dict) -> None:
    names = t["annotators"]
    if task == "va":
        for dim in ("valence", "arousal"):
            d = t[dim]
            icc = d["icc"]
            print(f"  {dim}: ICC(2,1) {_f(icc['ICC(2,1)'])}  ICC(3,1) {_f(icc['ICC(3,1)'])}  ICC(2,k) "
                  f"{_f(icc['ICC(2,k)'])}  Cronbach {_f(d['cronbach_alpha'])}  "
                  f"Krippendorff {_f(d['krippendorff_alpha'])}")
            print("    " + " " * 12 + "".join(f"{'CCC ' + b:>14s}" for b in names) + "   mean CCC  mean r")
            for a in names:
                row = "".join(f"{_f(d['ccc'][a].get(b)) if a != b else '    -':>14s}" for b in names)
                print(f"    {a[:12]:12s}{row}   {_f(d['mean_ccc'][a]):>8s}  {_f(d['mean_pearson'][a])}")
    else:
        label = "expression" if task == "expr" else "AUs (mean over AUs)"
        print(f"  {label}: Fleiss {_f(t['fleiss_kappa'])}  Krippendorff {_f(t['krippendorff_alpha'])}")
        if task == "expr":
            for a in names:
                row = "  ".join(f"{b}: {_f(t['cohen_kappa'][a][b])}" for b in names if b != a)
                print(f"    {a[:12]:12s} Cohen {row}   mean {_f(t['mean_kappa'][a])}")
        else:
            for au, d in t["per_au"].items():
                print(f"    {au:6s} Fleiss {_f(d['fleiss_kappa'])}  Krippendorff {_f(d['krippendorff_alpha'])}")
            print("    mean kappa per annotator: " + ", ".join(f"{a} {_f(v)}" for a, v in t["mean_kappa"].items()))


def run_agreement(args: argparse.Namespace) -> int:
    from ..agreement.report import agreement_report
    from ..progress import bar
    from ..project import open_project

    p = open_project(args.project, readonly=True)
    try:
        tasks = tuple(args.task) if args.task else ("va", "expr", "au")
        rep = agreement_report(p, _videos(p, args.video), tasks, args.max_lag, _ref(args.lag_reference),
                               bar("agreement"))
    finally:
        p.close()
    if args.json:
        print(json.dumps(rep, indent=1))
        return 0
    for v, entry in rep["videos"].items():
        print(f"== {v}")
        if not entry:
            print("  fewer than two annotators labelled this video")
        for task in tasks:
            if task in entry:
                _print_task(task, entry[task])
        lags = entry.get("lags")
        if lags:
            basis = {"labels": "anchored on the expression/AU labels", "relative": "relative to the earliest",
                     "reference": f"against track {lags['reference']!r}"}[lags["basis"]]
            print(f"  VA reaction lag ({basis}): " + ", ".join(f"{a} {s:.2f} s" for a, s in lags["lags_s"].items()))
    if rep["overall"]:
        print("== all videos")
        for task in tasks:
            if task in rep["overall"]:
                _print_task(task, rep["overall"][task])
    return 0


def run_fuse(args: argparse.Namespace) -> int:
    from ..agreement.fuse import fuse_project
    from .interchange_cmds import writable

    with writable(args.project) as p:
        out = fuse_project(p, args.method, tuple(args.task) if args.task else None, args.lag_compensate,
                           args.max_lag, _ref(args.lag_reference), args.name, _videos(p, args.video),
                           progress(args, "fuse"))
    if not out:
        raise AffectTraceError("no video has human annotator tracks to fuse", args.project)
    lines = []
    for v, r in out.items():
        lags = r.get("lags_s")
        extra = "; lags " + ", ".join(f"{a} {s:.2f} s" for a, s in lags.items()) if lags else ""
        sources = ", ".join(f"{t} by {m}" for t, m in r["methods"].items())
        lines.append(f"{v}: track {args.name!r} <- {sources}{extra}")
    report(args, {"track": args.name, "videos": out}, lines)
    return 0
