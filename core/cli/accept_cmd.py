"""`affecttrace accept PROJECT --model TRACK --video V --annotator A`: a model's labels into an annotator's track.

A frame range (--frames START:STOP) or every frame (AU: every cell) the model is confident about
(--min-confidence C), optionally only where the annotator has no label yet (--keep-labels). Without
--plan-out the edits are applied to the project, journaled and saved (the annotator's track is made when
missing). With --plan-out FILE the project is only read and FILE says what to take: the app holding the
project open turns it into one undo step of its own.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..labels import TASKS
from . import options as opt
from .reporting import add_events_flag, report


def _frames(text: str) -> tuple[int, int]:
    start, sep, stop = text.partition(":")
    try:
        lo, hi = int(start) if start else 0, int(stop) if stop else -1
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not START:STOP (frame numbers)") from None
    if not sep or lo < 0 or (hi != -1 and hi <= lo):
        raise argparse.ArgumentTypeError(f"{text!r} is not START:STOP with 0 <= START < STOP")
    return lo, hi


def register(sub: Any) -> None:
    p = sub.add_parser("accept", help="accept a model track's labels into an annotator's track",
                       description="Write a model track's labels into an annotator's track over a frame range or "
                       "wherever the model is confident; the annotator corrects them like any other labels.")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--model", required=True, metavar="TRACK", help="the model track to take labels from")
    p.add_argument("--video", required=True, metavar="V")
    p.add_argument("--annotator", required=True, metavar="A", help="whose track receives them (named after them)")
    p.add_argument("--task", action="append", choices=TASKS, help="only this task (repeatable; default all)")
    p.add_argument("--frames", type=_frames, default=None, metavar="START:STOP",
                   help="frames START to STOP-1 (default every frame; STOP may be left out)")
    p.add_argument("--min-confidence", type=opt.number(0.0, 1.0), default=None, metavar="C",
                   help="only frames (AU: cells) whose confidence is at least C")
    p.add_argument("--keep-labels", action="store_true", help="fill only the frames the annotator left unlabelled")
    p.add_argument("--plan-out", default=None, metavar="FILE",
                   help="read the project only; write what to take into FILE (for an app holding it open)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_events_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..accept import AcceptPlan, accept_parts, save_plan
    from ..errors import AffectTraceError
    from ..project import open_project
    from ..safepaths import check_name
    from ..tracks import Track, TrackSource

    check_name(args.annotator, "annotator", None, AffectTraceError)
    project = open_project(args.project, readonly=args.plan_out is not None)
    try:
        if args.video not in project.videos:
            raise AffectTraceError(f"no video {args.video!r} in the project", project.folder)
        if not project.has_track(args.video, args.model):
            raise AffectTraceError(f"video {args.video!r} has no track {args.model!r}", project.folder)
        model = project.track(args.video, args.model)
        name = args.annotator
        exists = project.has_track(args.video, name)
        target = project.track(args.video, name) if exists else Track.empty(
            args.video, name, TrackSource.human(name), project.videos[args.video].frame_count, project.au_set)
        start, stop = args.frames or (0, -1)
        parts = accept_parts(model, target, tuple(args.task or TASKS), start, None if stop == -1 else stop,
                             args.min_confidence, args.keep_labels)
        out: dict[str, Any] = {"model": args.model, "video": args.video, "track": name,
                               "tasks": [p.task for p in parts],
                               "frames": [min(p.start for p in parts), max(p.stop for p in parts)] if parts else None}
        if args.plan_out is not None:
            save_plan(Path(args.plan_out), AcceptPlan(args.model, args.video, name, parts))
        elif parts:
            if not exists:
                target = project.new_track(args.video, name, TrackSource.human(name))
            for part in parts:
                edit = part.edit(target, author=name)
                if edit is not None:
                    project.apply(edit)
            project.save()
    finally:
        project.close()
    if not parts:
        line = (f"nothing to accept from {args.model!r} on {args.video!r} (no prediction there, or none "
                "confident enough)")
    else:
        verb = "would take" if args.plan_out is not None else "accepted"
        line = (f"{verb} {args.model}'s {', '.join(out['tasks'])} labels into {name!r} on {args.video!r}, "
                f"frames {out['frames'][0]}-{out['frames'][1] - 1}")
    report(args, out, line)
    return 0
