"""`affecttrace compare PROJECT --ref SPEC`: ABAW scores of project tracks against a reference track.

The numbers are those of `affecttrace evaluate --pred PROJECT:SPEC --ref PROJECT:REF` (core.compare),
per video and pooled over the project, for every track (or those named) at once; optionally the worst
segments of a sliding-window agreement per video and task.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..labels import TASKS
from . import options as opt
from .reporting import add_events_flag, message, progress, report
from .tool_cmds import AU_THRESHOLD_HELP

if TYPE_CHECKING:
    from ..project import Project

SPEC_HELP = "a track name (fused, model-r1) or @ANNOTATOR"


def register(sub: Any) -> None:
    p = sub.add_parser("compare", help="score tracks against a reference track (model vs fused, annotator vs "
                       "annotator ...)", description="ABAW scores (the code of `affecttrace evaluate`) of each "
                       "track against the reference, per video and for the whole project.")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--ref", required=True, metavar="SPEC", help=f"the reference: {SPEC_HELP}")
    p.add_argument("--track", action="append", metavar="SPEC",
                   help=f"a track to score: {SPEC_HELP} (repeatable; default every other track)")
    p.add_argument("--task", action="append", choices=TASKS, help="only this task (repeatable)")
    p.add_argument("--video", action="append", metavar="V", help="only this video (repeatable)")
    p.add_argument("--abaw", type=int, choices=(2020, 2022), default=2022)
    p.add_argument("--worst", type=opt.count, default=0, metavar="N",
                   help="also list the N worst segments of the sliding-window agreement per video and task")
    p.add_argument("--window", type=opt.seconds, default=2.0, metavar="S",
                   help="agreement window in seconds (default 2)")
    p.add_argument("--au-threshold", type=opt.probability, default=None, metavar="T", help=AU_THRESHOLD_HELP)
    p.add_argument("--csv", default=None, metavar="OUT.csv", help="also write the table as CSV")
    opt.add_force(p, "replace an existing --csv file that is not a text table")
    p.add_argument("--json", action="store_true", help="print the table (and segments) as JSON")
    add_events_flag(p)
    p.set_defaults(func=run)


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)


def _worst(project: Project, specs: list[str], ref: str, tasks: list[str], videos: list[str] | None, count: int,
           window_s: float, au_threshold: float | None = None) -> dict[str, dict[str, dict[str, list[dict]]]]:
    from ..agreement.report import video_fps
    from ..compare import agreement_series, track_pairs, worst_segments

    out: dict[str, dict[str, dict[str, list[dict]]]] = {}
    for spec in specs:
        for video, (track, reference) in track_pairs(project, spec, ref, videos, au_threshold).items():
            window = max(2, round(window_s * video_fps(project, video)))
            for task in tasks:
                if reference.labelled(task).any():
                    segs = worst_segments(agreement_series(track, reference, task, window), count)
                    out.setdefault(spec, {}).setdefault(video, {})[task] = [s.to_dict() for s in segs]
    return out


def run(args: argparse.Namespace) -> int:
    from ..compare import all_track_specs, au_rules, comparison_rows, track_pairs, write_table_csv
    from ..errors import AffectTraceError
    from ..project import open_project
    from ..safepaths import check_output

    tasks = list(args.task or TASKS)
    if args.csv:
        check_output(args.csv, (args.project,), "text", args.force)
    project = open_project(args.project, readonly=True)
    try:
        unknown = [v for v in args.video or [] if v not in project.videos]
        if unknown:
            raise AffectTraceError(f"no video named {', '.join(map(repr, unknown))} in the project", project.folder)
        specs = [s for s in (args.track or all_track_specs(project, args.video)) if s != args.ref]
        for spec in args.track or []:
            if not track_pairs(project, spec, args.ref, args.video):
                message(args, f"{spec}: no video has both it and {args.ref}", "warning")
        step = progress(args, "compare")
        rows = []
        for i, spec in enumerate(specs):
            step(i, len(specs), spec)
            rows += comparison_rows(project, [spec], args.ref, tasks, args.video, args.abaw, args.au_threshold)
        step(len(specs), len(specs), "")
        if not rows:
            raise AffectTraceError(f"no track shares a labelled video with the reference {args.ref!r}",
                                   project.folder)
        out: dict[str, Any] = {"reference": args.ref, "abaw": args.abaw, "rows": rows,
                               "au_rules": au_rules(project, specs + [args.ref], args.au_threshold, args.video)}
        if args.worst > 0:
            out["worst"] = _worst(project, specs, args.ref, tasks, args.video, args.worst, args.window,
                                  args.au_threshold)
    finally:
        project.close()
    if args.csv:
        write_table_csv(rows, args.csv)
        out["csv"] = args.csv
    lines = [f"{'track':20s} {'task':5s} {'video':24s} {'frames':>7s} {'score':>8s}  parts"]
    for r in rows:
        lines.append(f"{r['track'][:20]:20s} {r['task']:5s} {r['video'][:24]:24s} {r['frames']:7d} "
                     f"{_fmt(r['score']):>8s}  {r['part1']} {_fmt(r['value1'])}, {r['part2']} {_fmt(r['value2'])}")
    lines += [f"AU of {spec}: {rule}" for spec, rule in out["au_rules"].items()]
    for spec, per_video in out.get("worst", {}).items():
        for video, per_task in per_video.items():
            for task, segs in per_task.items():
                worst = ", ".join(f"{s['start']}-{s['stop'] - 1} ({_fmt(s['score'])})" for s in segs)
                lines.append(f"worst {spec} {video} {task}: {worst or 'none'}")
    report(args, out, lines)
    return 0
