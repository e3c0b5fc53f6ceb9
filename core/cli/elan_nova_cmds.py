"""`affecttrace import-elan | export-elan | import-nova | export-nova`: ELAN and NOVA annotation files."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..project import Project

FRAME_RULE = ("A frame belongs to an annotation when its display time (frame / fps) lies in [start, end).")
MAP_HELP = ("VALUE=MEANING: a tier or scheme value and the expression class (Happiness...) or AU state (absent, "
            "present, A-E) it means (repeatable). Class names and their usual spellings map by themselves; "
            "anything else unmapped is listed, never guessed")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--video", metavar="NAME", help="the project video the file annotates (default: the only video)")


def _export_options(p: argparse.ArgumentParser, replaced: str) -> None:
    _common(p)
    p.add_argument("--all-videos", action="store_true", help="every video with labels (those without are listed)")
    p.add_argument("out", metavar="OUT_DIR")
    p.add_argument("--track", action="append", metavar="NAME", help="only this track (repeatable; default: every "
                   "human and fused track)")
    p.add_argument("--overwrite", action="store_true", help=f"replace {replaced}")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "import-elan", help="import expression and AU tiers (and VA time series) of an ELAN .eaf file",
        description="Time-aligned tiers become expression or AU labels of the track named after the tier's "
        "annotator (ANNOTATOR, else PARTICIPANT, else the tier name). A tier is imported when --tier names it or "
        "its name ends in a task ('... expression', '... AU12'); VA comes from linked time series named "
        f"'<annotator> valence' / '<annotator> arousal'. {FRAME_RULE} The whole file is checked first; on any "
        "problem nothing is imported. Tiers left unmapped are kept in the project and written back by export-elan.")
    _common(p)
    p.add_argument("eaf", metavar="FILE.eaf")
    p.add_argument("--tier", action="append", metavar="NAME=TASK", help="import tier NAME as expr, an AU (AU12) or "
                   "facs (values like 1+2+12C); also names time series tracks as valence/arousal (repeatable)")
    p.add_argument("--map", action="append", metavar="VALUE=MEANING", help=MAP_HELP)
    p.add_argument("--annotator", action="append", metavar="TIER=NAME", help="store tier TIER (or every tier of "
                   "annotator TIER) in track NAME")
    p.add_argument("--skip-unmapped", action="store_true", help="leave annotations with unmapped values unlabelled "
                   "(listed) instead of refusing the file")
    p.add_argument("--gaps-absent", action="store_true", help="AU and FACS tiers: frames no annotation marks are "
                   "'absent' for the tier's AUs (default: unlabelled)")
    p.set_defaults(func=run_import_elan)

    p = sub.add_parser(
        "export-elan", help="write a video's tracks as an ELAN .eaf file (+ VA time series)",
        description="One tier per track and task: '<track> expression' with a controlled vocabulary of the 8 "
        "classes, one '<track> AU<n>' tier per AU (absent, present, A-E); VA as a linked time series "
        "(<video>_va.csv + <video>_tsconf.xml) that ELAN draws under the video; the video by a relative path. "
        "Tiers kept from imported ELAN files are written back.")
    _export_options(p, "an existing <video>.eaf")
    p.set_defaults(func=run_export_elan)

    p = sub.add_parser(
        "import-nova", help="import NOVA annotations (.annotation + .annotation~, ASCII or binary)",
        description="DISCRETE and FREE schemes become expression or AU labels, CONTINUOUS schemes valence or "
        "arousal (rescaled from the scheme's [min, max] to [-1, 1]; frame f takes sample floor(f * sr / fps)). "
        f"{FRAME_RULE} Confidence becomes the track's confidence like a model's (p_<class>, p_<AU>, VA spread "
        "(1 - confidence) * 0.5). All files are checked first; on any problem nothing is imported.")
    _common(p)
    p.add_argument("files", metavar="FILE.annotation", nargs="+")
    p.add_argument("--scheme", action="append", metavar="NAME=TASK", help="scheme NAME holds expr, an AU (AU12), "
                   "facs (values like 1+2+12C), valence or arousal (default: a scheme named like the task)")
    p.add_argument("--map", action="append", metavar="VALUE=MEANING", help=MAP_HELP)
    p.add_argument("--track", metavar="NAME", help="store every file in this track (default: the file's annotator)")
    p.add_argument("--skip-unmapped", action="store_true", help="leave segments with unmapped values unlabelled")
    p.set_defaults(func=run_import_nova)

    p = sub.add_parser(
        "export-nova", help="write a video's tracks as NOVA annotation pairs",
        description="Per track <video>.<scheme>.<track>.annotation (+ ~): expression (DISCRETE), one DISCRETE scheme "
        "per AU, valence and arousal (CONTINUOUS at the video's frame rate), with the track's confidence.")
    _export_options(p, "existing annotation files")
    p.add_argument("--binary", action="store_true", help="binary data files (default ASCII)")
    p.set_defaults(func=run_export_nova)


def _video(p: Project, name: str | None) -> str:
    from ..errors import ProjectError

    if name is not None:
        return name
    if len(p.videos) != 1:
        raise ProjectError(f"the project has {len(p.videos)} videos: choose one with --video", p.folder)
    return next(iter(p.videos))


def run_import_elan(args: argparse.Namespace) -> int:
    from ..interchange.elan import import_elan
    from .interchange_cmds import writable

    with writable(args.project) as p:
        video = _video(p, args.video)
        report = import_elan(p, args.eaf, video, args.map, args.tier, args.annotator, args.skip_unmapped,
                             args.gaps_absent)
    print("\n".join(report.lines(video)))
    return 0


def _export(args: argparse.Namespace, one: Callable[[Project, str], list[str]]) -> int:
    """Run ``one`` (which prints its lines) for the chosen video or, with --all-videos, every video with labels."""
    from ..errors import AffectTraceError
    from ..interchange.elan import NothingToExport
    from ..project import open_project
    from ..safepaths import check_output

    check_output(args.out, (args.project,), "folder")  # not a link, a file, the project or a folder inside it
    p = open_project(args.project, readonly=True)
    try:
        if args.all_videos and args.video:
            raise AffectTraceError("give --video or --all-videos, not both")
        videos = list(p.videos) if args.all_videos else [_video(p, args.video)]
        empty = []
        for video in videos:
            try:
                print("\n".join(one(p, video)))
            except NothingToExport:
                if not args.all_videos:
                    raise
                empty.append(video)
        if empty:
            print(f"{len(empty)} video(s) without labels in the chosen tracks: {', '.join(empty)}")
        if len(empty) == len(videos):
            raise NothingToExport("nothing to export: no video has labels in the chosen tracks", p.folder)
    finally:
        p.close()
    return 0


def run_export_elan(args: argparse.Namespace) -> int:
    from ..interchange.elan import export_elan

    return _export(args, lambda p, v: export_elan(p, v, args.out, args.track, args.overwrite).lines())


def run_import_nova(args: argparse.Namespace) -> int:
    from ..interchange.novaio import import_nova
    from .interchange_cmds import writable

    with writable(args.project) as p:
        video = _video(p, args.video)
        report = import_nova(p, args.files, video, args.map, args.scheme, args.track, args.skip_unmapped)
    print("\n".join(report.lines(video)))
    return 0


def run_export_nova(args: argparse.Namespace) -> int:
    from ..interchange.novaio import export_nova

    def one(p: Project, video: str) -> list[str]:
        files = export_nova(p, video, args.out, args.track, args.binary, args.overwrite)
        names = ", ".join(f.name for f in files)
        return [f"wrote {len(files)} NOVA annotation pair(s) of {video} to {args.out}: {names}"]
    return _export(args, one)
