"""`affecttrace project ...`: create a project, add and relocate videos, check, repair and save it."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import ProjectError, ProjectLockedError
from . import options as opt


def register(sub: Any) -> None:
    p = sub.add_parser("project", help="create a project, add or relocate videos, check, repair or save it",
                       description="Manage a project folder (project.json, annotations.h5, journal/, cache/, models/).")
    ps = p.add_subparsers(dest="project_command", metavar="ACTION", required=True)

    new = ps.add_parser("new", help="create an empty project folder")
    new.add_argument("folder", metavar="DIR")
    new.add_argument("--name", help="project name (default: the folder name)")
    new.add_argument("--au-set", default="affwild2-12",
                     help="affwild2-8, affwild2-12 or a list like AU1,AU2,AU12 (default affwild2-12)")
    new.set_defaults(func=_new)

    add = ps.add_parser("add-video", help="add media files (probed) or absent ones (with --frames and --fps)")
    add.add_argument("project", metavar="PROJECT")
    add.add_argument("media", metavar="MEDIA", nargs="+")
    add.add_argument("--name", help="video name (one MEDIA only; default: the file name without extension)")
    add.add_argument("--split", default="train", help="train, val, test... (default train)")
    add.add_argument("--subject", help="subject id")
    add.add_argument("--frames", type=opt.positive, help="frame count (required when the media is absent)")
    add.add_argument("--fps", help="frame rate such as 25 or 30000/1001 (required when the media is absent)")
    add.set_defaults(func=_add_video)

    rel = ps.add_parser("relocate", help="point a missing or moved video at its media's new place")
    rel.add_argument("project", metavar="PROJECT")
    rel.add_argument("video", metavar="VIDEO")
    rel.add_argument("media", metavar="NEW_PATH")
    rel.set_defaults(func=_relocate)

    chk = ps.add_parser("check", help="read every track, list missing media and what recovery replayed")
    chk.add_argument("project", metavar="PROJECT")
    chk.add_argument("--json", action="store_true", help="print the report as JSON")
    chk.set_defaults(func=_check)

    rep = ps.add_parser("repair", help="give up tracks whose track file is missing or damaged (journal kept)",
                        description="A project whose track file is lost opens read-only. This drops the tracks "
                        "that file held, keeps a copy of the journal in journal/kept/, and saves.")
    rep.add_argument("project", metavar="PROJECT")
    rep.set_defaults(func=_repair)

    sav = ps.add_parser("save", help="open (replaying the journal after a crash) and save")
    sav.add_argument("project", metavar="PROJECT")
    sav.set_defaults(func=_save)

    from .team_cmds import register_actions  # assign, status, team, take-over, merge

    register_actions(ps)


def _writable(path: str):
    from ..project import Project

    return Project.open_writable(path)


def _new(args: argparse.Namespace) -> int:
    from ..project import Project

    try:
        p = Project.create(args.folder, name=args.name, au_set=args.au_set)
    except ValueError as e:  # a bad AU list
        raise ProjectError(str(e), args.folder) from e
    p.close()
    print(f"created project {p.name!r} in {p.folder} (AU set {p.au_set.name}: {', '.join(p.au_set.aus)})")
    return 0


def _add_video(args: argparse.Namespace) -> int:
    from ..progress import bar

    if args.name and len(args.media) > 1:
        raise ProjectError("--name needs a single MEDIA")
    with _writable(args.project) as p:
        progress = bar("probing")
        for i, m in enumerate(args.media):
            e = p.add_video(m, name=args.name, split=args.split, subject=args.subject,
                            frame_count=args.frames, fps=args.fps)
            state = " (missing)" if p.is_missing(e.name) else ""
            print(f"{e.name}: {e.frame_count} frames at {e.fps} fps, {e.media}{state}")
            if e.problems:
                print(f"warning: {m}: {'; '.join(e.problems)}", file=sys.stderr)
            progress(i + 1, len(args.media))
    return 0


def _relocate(args: argparse.Namespace) -> int:
    with _writable(args.project) as p:
        p.relocate(args.video, args.media)
        for w in p.warnings:
            print(f"warning: {w}")
        print(f"{args.video}: {p.videos[args.video].media}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from ..progress import bar
    from ..project import open_project

    p = open_project(args.project, readonly=True)
    problems: list[str] = []
    try:
        keys = [(v, n) for v in p.videos for n in p.track_names(v)]
        progress = bar("reading tracks")
        for i, (v, n) in enumerate(keys):
            try:
                p.track(v, n)
            except ProjectError as e:
                problems.append(str(e))
            p.unload(v, n)
            progress(i + 1, len(keys))
        report: dict[str, Any] = {"project": str(p.folder), "videos": len(p.videos), "tracks": len(keys),
                  "missing_media": p.missing_videos(), "unsaved_journal_records": p.recovered,
                  "lock_holder": p.lock_holder, "warnings": p.warnings, "problems": problems}
    finally:
        p.close()
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"{report['project']}: {report['videos']} videos, {report['tracks']} tracks readable "
              f"{report['tracks'] - len(problems)}/{report['tracks']}, {len(report['missing_media'])} missing media, "
              f"{report['unsaved_journal_records']} unsaved journal records")
        for line in [f"missing media: {v}" for v in report["missing_media"]] + p.warnings + problems:
            print(f"  {line}")
    return 1 if problems else 0


def _repair(args: argparse.Namespace) -> int:
    from ..project import Project
    from ..project.persist import KEPT_DIR

    p = Project.open(args.project, drop_unreadable=True)
    try:
        if p.readonly:
            raise ProjectLockedError(f"cannot change the project (opened read-only): {p.readonly_reason}", p.folder)
        dropped = [w for w in p.warnings if w.startswith("dropped track ")]
        if dropped:
            p.save()
    finally:
        p.close()
    if not dropped:
        print(f"nothing to repair: every track file of {p.folder} reads")
        return 0
    print("\n".join(dropped))
    print(f"the journal is kept in {p.folder / 'journal' / KEPT_DIR}; saved generation {p.generation}")
    return 0


def _save(args: argparse.Namespace) -> int:
    p = _writable(args.project)
    try:
        replayed = p.recovered
        p.save()
    finally:
        p.close()
    print(f"saved generation {p.generation} ({replayed} journal records committed)")
    return 0
