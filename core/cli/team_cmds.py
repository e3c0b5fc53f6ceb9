"""`affecttrace project assign|status|team|take-over|merge`: a campaign of several annotators in one project."""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from typing import Any

from ..errors import ProjectError, ProjectLockedError
from .reporting import add_events_flag, stream_of


def register_actions(ps: Any) -> None:
    a = ps.add_parser("assign", help="assign videos and tasks (VA, EXPR, AU) to annotators (the lead)",
                      description="Written at once under the short project lease; annotators see it in their queue.")
    a.add_argument("project", metavar="PROJECT")
    a.add_argument("videos", metavar="VIDEO", nargs="*", help="videos to assign (or --all / --split)")
    a.add_argument("--annotator", "-a", action="append", required=True, metavar="NAME",
                   help="annotator (repeatable)")
    a.add_argument("--tasks", default="VA,EXPR,AU", metavar="LIST", help="VA, EXPR, AU, comma-separated (default all)")
    a.add_argument("--all", action="store_true", help="every video of the project")
    a.add_argument("--split", metavar="S", help="every video of this split")
    a.add_argument("--remove", action="store_true", help="take these tasks back instead")
    a.set_defaults(func=_assign)

    s = ps.add_parser("status", help="per annotator x video: coverage per task, time spent, agreement so far",
                      description="Reads the saved state of every lane; never disturbs the annotators.")
    s.add_argument("project", metavar="PROJECT")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the table as JSON")
    fmt.add_argument("--csv", action="store_true", help="print the table as CSV")
    s.add_argument("--no-agreement", action="store_true", help="leave out agreement (reads no track arrays)")
    s.set_defaults(func=_status)

    t = ps.add_parser("team", help="who is annotating now (holder, host), each annotator's last save")
    t.add_argument("project", metavar="PROJECT")
    t.add_argument("--json", action="store_true", help="print as JSON")
    t.set_defaults(func=_team)

    k = ps.add_parser("take-over", help="take an annotator's lane from a session that is gone (asks first)",
                      description="For a workstation that crashed or was left open: its journal and lease are "
                      "taken over (recorded in team/NAME/takeovers.jsonl), its unsaved edits saved.")
    k.add_argument("project", metavar="PROJECT")
    k.add_argument("--annotator", "-a", required=True, metavar="NAME")
    k.add_argument("--yes", action="store_true", help="do not ask (the holder was asked another way)")
    k.set_defaults(func=_take_over)

    m = ps.add_parser("merge", help="bring back the lanes labelled in a copy of the project (e.g. a laptop)",
                      description="Frames edited on both sides since the copy was made are listed per annotator "
                      "and the merge refuses, unless --prefer says which side wins. Everything merged becomes "
                      "journaled, undoable edits of the annotator's lane.")
    m.add_argument("project", metavar="PROJECT")
    m.add_argument("other", metavar="OTHER_COPY")
    m.add_argument("--annotator", "-a", action="append", metavar="NAME", help="only this annotator (repeatable)")
    m.add_argument("--prefer", choices=("theirs", "ours"), help="who wins on frames edited on both sides")
    m.add_argument("--json", action="store_true", help="print the report as JSON")
    m.add_argument("--plan", action="store_true", help="only list what would come across and the conflicts")
    add_events_flag(m)  # the app's File > Merge copy runs it as a job
    m.set_defaults(func=_merge)


def _assign(args: argparse.Namespace) -> int:
    from ..project import Project
    from ..project.campaign import assign, parse_tasks

    try:
        tasks = parse_tasks(args.tasks)
    except ValueError as e:
        raise ProjectError(str(e)) from e
    with Project.open_writable(args.project) as p:
        videos = list(args.videos)
        if args.all:
            videos += list(p.videos)
        if args.split:
            videos += [v for v, e in p.videos.items() if e.split == args.split]
        videos = list(dict.fromkeys(videos))
        if not videos:
            raise ProjectError("no video given (name them, or use --all or --split)", p.folder)
        assign(p, args.annotator, videos, tasks, remove=args.remove)
    verb = "took back" if args.remove else "assigned"
    print(f"{verb} {'+'.join(t.upper() for t in tasks)} of {len(videos)} video(s) "
          f"{'from' if args.remove else 'to'} {', '.join(args.annotator)}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from ..project import open_project
    from ..project.campaign import status, status_csv_rows

    p = open_project(args.project, readonly=True)
    try:
        st = status(p, agreement=not args.no_agreement)
    finally:
        p.close()
    if args.json:
        print(json.dumps(st, indent=1))
        return 0
    rows = status_csv_rows(st)
    if args.csv:
        csv.writer(sys.stdout, lineterminator="\n").writerows(rows)
        return 0
    for ann, tot in st["annotators"].items():
        ccc = "" if tot["va_ccc_mean"] is None else f", VA CCC with others {tot['va_ccc_mean']:.2f}"
        print(f"{ann}: {tot['done_videos']}/{tot['assigned_videos']} assigned videos done, "
              f"{tot['seconds'] / 60:.0f} min, {tot['edits']} edits{ccc}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def _team(args: argparse.Namespace) -> int:
    from ..project import open_project

    p = open_project(args.project, readonly=True)
    try:
        now = time.time()
        people = p.annotators_now()
    finally:
        p.close()
    out = [{"annotator": a.name, "generation": a.generation, "saved_at": a.saved_at,
            "holder": None if a.holder is None else {"holder": a.holder.holder, "host": a.holder.host,
                                                     "pid": a.holder.pid, "since": a.holder.since}}
           for a in people]
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    for a in people:
        ago = a.last_saved_ago(now)
        saved = "never saved" if ago is None else f"saved {ago:.0f} s ago (their clock)"
        where = f"open on {a.holder.host} pid {a.holder.pid}" if a.holder is not None else "not open"
        print(f"{a.name} · {saved} · {where}")
    return 0


def _take_over(args: argparse.Namespace) -> int:
    from ..project import Project

    p = Project.open(args.project, annotator=args.annotator)
    try:
        if p.readonly and p.holder_info is None:
            raise ProjectLockedError(f"cannot take over: {p.readonly_reason}", p.folder)
        if p.readonly:
            h = p.holder_info
            question = (f"{args.annotator}'s lane is held by {h}. Take it over? That session can no longer "
                        "save (its edits so far are kept). [y/N] ")
            if not args.yes:
                if not sys.stdin.isatty():
                    raise ProjectLockedError(f"{args.annotator}'s lane is held by {h}; run again with --yes to "
                                             "take it over", p.folder)
                if input(question).strip().lower() not in ("y", "yes"):
                    print("not taken over")
                    return 1
            p.close()
            p = Project.open(args.project, annotator=args.annotator, take_over=True)
        replayed = p.recovered
        p.save()
        print(f"{args.annotator}: lane taken and saved (generation {p.generation}, {replayed} journal record(s) "
              "committed)")
    finally:
        p.close()
    return 0


def _merge(args: argparse.Namespace) -> int:
    from ..project.merge import merge_copy

    report = merge_copy(args.project, args.other, annotators=args.annotator, prefer=args.prefer,
                        apply=not args.plan)
    stream = stream_of(args)
    if stream is not None:
        stream.emit("result", **report.to_dict())
    elif args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        for line in report.lines():
            print(line)
    return 0 if report.merged or not report.conflicts or args.plan else 1
