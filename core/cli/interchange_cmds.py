"""`affecttrace import-affwild2 | export-affwild2 | import-csv | export-csv`: label interchange."""
from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ..safepaths import check_output
from . import options as opt

if TYPE_CHECKING:
    from ..project import Project


def register(sub: Any) -> None:
    p = sub.add_parser(
        "import-affwild2", help="import an Aff-Wild2 label tree (2020 or 2022+ layout) into a project",
        description="Validate every label file under ROOT (VA, EXPR, AU; Train/Validation splits; either layout), "
        "then import them into PROJECT (created when absent). With any invalid file nothing is written "
        "unless --skip-invalid. <video>_left/_right/_main share the media file <video>. Crops in "
        "cropped_aligned/<video>/ are linked and frames without one recorded.")
    p.add_argument("root", metavar="ROOT", help="the dataset folder (holding annotations/ or the *_Challenge folders)")
    p.add_argument("project", metavar="PROJECT", help="project folder (created when absent)")
    p.add_argument("--media", metavar="DIR", help="folder searched (recursively) for the videos "
                   "(default: ROOT's subfolders named *video*/*batch*); absent media -> labels only, video missing")
    p.add_argument("--crops", metavar="DIR", help="cropped_aligned folder (default ROOT/cropped_aligned)")
    p.add_argument("--skip-invalid", action="store_true", help="leave invalid files out and import the rest")
    p.add_argument("--fps", default="30", help="frame rate for videos whose media is absent (default 30)")
    p.add_argument("--annotator", metavar="NAME",
                   help="store the labels as this annotator's human track (default: fused track 'affwild2')")
    p.set_defaults(func=run_import)

    p = sub.add_parser(
        "export-affwild2", help="write a project track as Aff-Wild2 label files",
        description="Write one track per video in the Aff-Wild2 format. Files imported with import-affwild2 "
        "come back byte for byte (header, line count, sentinels, number spelling).")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("out", metavar="OUT", help="output folder")
    p.add_argument("--layout", choices=("2020", "2022"), help="default: the imported layout, else 2022")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--annotator", metavar="NAME", help="that annotator's human track")
    g.add_argument("--fused", action="store_true", help="the fused track ('fused', from `affecttrace fuse`)")
    g.add_argument("--track", metavar="NAME", help="a track by name (default: 'affwild2', else a video's only track)")
    p.set_defaults(func=run_export)

    p = sub.add_parser("export-csv", help="write every track to one tidy CSV table",
                       description="One row per video x frame x track: video, frame, time_s, track, valence, "
                       "arousal, expression (0-7), one column per AU; empty cells are unlabelled.")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("out", metavar="OUT.csv")
    p.add_argument("--track", action="append", metavar="NAME", help="only this track (repeatable)")
    opt.add_force(p, "replace an existing OUT.csv that is not a text table")
    p.set_defaults(func=run_export_csv)

    p = sub.add_parser("import-csv", help="read a tidy CSV table into project tracks",
                       description="Each (video, track) of the table becomes a track (new tracks are human tracks "
                       "of an annotator named like the track). The whole table is validated first.")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("csv", metavar="IN.csv")
    p.add_argument("--replace", action="store_true",
                   help="each row replaces its frame's values, empty cells clearing them (default: empty cells "
                   "leave existing labels alone)")
    p.set_defaults(func=run_import_csv)


@contextmanager
def writable(path: str | Path) -> Iterator[Project]:
    from ..project import Project

    p = Project.open_writable(path)
    try:
        yield p
    finally:
        p.close()


def run_import(args: argparse.Namespace) -> int:
    from ..interchange.affwild2 import InvalidLabelsError, import_affwild2
    from ..progress import bar

    try:
        report = import_affwild2(args.root, args.project, args.media, args.crops, args.skip_invalid, args.fps,
                                 args.annotator, bar("import-affwild2"))
    except InvalidLabelsError as e:  # every bad file, one line each, so that all are fixed in one pass
        for prob in e.problems if len(e.problems) > 1 else ():  # one: the error line names it
            print(str(prob), file=sys.stderr)
        raise
    print("\n".join(report.lines()))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ..interchange.export import export_affwild2
    from ..progress import bar
    from ..project import open_project

    check_output(args.out, (args.project,), "folder")
    p = open_project(args.project, readonly=True)
    try:
        report = export_affwild2(p, args.out, args.layout, args.track, args.annotator, args.fused,
                                 bar("export-affwild2"))
    finally:
        p.close()
    print("\n".join(report.lines()))
    return 0


def run_export_csv(args: argparse.Namespace) -> int:
    from ..interchange.csvio import export_csv
    from ..progress import bar
    from ..project import open_project

    check_output(args.out, (args.project,), "text", args.force)
    p = open_project(args.project, readonly=True)
    try:
        rows = export_csv(p, args.out, args.track, bar("export-csv"))
    finally:
        p.close()
    print(f"wrote {rows} rows to {args.out}")
    return 0


def run_import_csv(args: argparse.Namespace) -> int:
    from ..interchange.csvio import import_csv
    from ..progress import bar

    with writable(args.project) as p:
        res = import_csv(p, args.csv, bar("import-csv"), replace=args.replace)
    names = sorted({t for _, t in res.tracks})
    print(f"imported {res.rows} rows into {len(res.tracks)} track(s) ({', '.join(names)}) of "
          f"{len({v for v, _ in res.tracks})} video(s)")
    return 0
