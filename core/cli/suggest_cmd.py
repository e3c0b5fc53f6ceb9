"""`affecttrace suggest PROJECT`: the segments most worth labelling next (core.suggest)."""
from __future__ import annotations

import argparse
from typing import Any

from ..labels import TASKS
from ..words import SEGMENT_SECONDS, SUGGESTION_COUNT
from . import options as opt
from .reporting import add_events_flag, progress, report


def register(sub: Any) -> None:
    p = sub.add_parser("suggest", help="rank the segments to label next (model doubt, disagreement, unlabelled)",
                       description="Score every frame by the model track's uncertainty, its disagreement with "
                       "the people's reference track and the frames no one labelled; list the best segments.")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--video", action="append", metavar="V", help="only this video (repeatable)")
    p.add_argument("--model", default=None, metavar="TRACK", help="model track (default each video's last one)")
    p.add_argument("--reference", default=None, metavar="SPEC",
                   help="the people's track: a name or @ANNOTATOR (default fused, else the annotator's, else the "
                   "human track with most labels)")
    p.add_argument("--annotator", default=None, help="whose track is the reference when there is no fused one")
    p.add_argument("--task", action="append", choices=TASKS, help="only this task (repeatable)")
    p.add_argument("--count", type=opt.positive, default=SUGGESTION_COUNT, metavar="N",
                   help=f"segments to list (default {SUGGESTION_COUNT})")
    p.add_argument("--segment-seconds", type=opt.seconds, default=SEGMENT_SECONDS, metavar="S",
                   help=f"segment length (default {SEGMENT_SECONDS:g} s)")
    for part in ("uncertainty", "disagreement", "unlabelled"):
        p.add_argument(f"--w-{part}", type=opt.nonneg, default=1.0, metavar="W", help=f"weight of {part} (default 1)")
    p.add_argument("--json", action="store_true", help="print the segments as JSON")
    add_events_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..agreement.report import video_fps
    from ..errors import AffectTraceError
    from ..project import open_project
    from ..suggest import Weights, video_suggestions

    if args.count < 1 or args.segment_seconds <= 0:
        raise AffectTraceError("--count must be at least 1 and --segment-seconds above 0")
    weights = Weights(args.w_uncertainty, args.w_disagreement, args.w_unlabelled)
    if min(weights.uncertainty, weights.disagreement, weights.unlabelled) < 0 or weights.total() <= 0:
        raise AffectTraceError("weights must be >= 0 and not all 0")
    project = open_project(args.project, readonly=True)
    try:
        videos = args.video or list(project.videos)
        unknown = [v for v in videos if v not in project.videos]
        if unknown:
            raise AffectTraceError(f"no video named {', '.join(map(repr, unknown))} in the project", project.folder)
        if args.model:
            missing = [v for v in videos if not project.has_track(v, args.model)]
            if len(missing) == len(videos):
                raise AffectTraceError(f"no video has the model track {args.model!r}", project.folder)
            videos = [v for v in videos if v not in missing]
        if args.reference:
            from ..compare import find_track

            if not any(find_track(project, v, args.reference) for v in videos):
                raise AffectTraceError(f"no video has the reference track {args.reference!r}", project.folder)
        step = progress(args, "suggest")
        per_video: dict[str, Any] = {}
        for i, v in enumerate(videos):
            step(i, len(videos), v)
            s = video_suggestions(project, v, args.model, args.reference, args.annotator, args.count,
                                  tuple(args.task or TASKS), weights, args.segment_seconds)
            per_video[v] = s.to_dict(video_fps(project, v))
        step(len(videos), len(videos), "")
    finally:
        project.close()
    ranked = sorted(((seg["score"], v, seg) for v, d in per_video.items() for seg in d["segments"]),
                    key=lambda x: -x[0])[: args.count]
    out = {"videos": per_video, "top": [{"video": v, **seg} for _s, v, seg in ranked]}
    lines = [f"{'video':24s} {'frames':>15s} {'seconds':>17s} {'score':>6s}"]
    for _s, v, seg in ranked:
        lines.append(f"{v[:24]:24s} {seg['start']:>7d}-{seg['stop'] - 1:<7d} "
                     f"{seg['start_s']:>8.2f}-{seg['stop_s']:<8.2f} {seg['score']:6.3f}")
    report(args, out, lines)
    return 0
