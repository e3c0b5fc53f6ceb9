"""`affecttrace import-openface | import-pyfeat`: other tools' per-frame output as read-only tool tracks."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .reporting import add_events_flag, progress, report

if TYPE_CHECKING:
    from ..project import Project

FORMATS = {
    "import-openface": ("OpenFace 2.0", "openface", "an OpenFace FeatureExtraction (or FaceLandmarkVidMulti) CSV",
                        "face_id column"),
    "import-pyfeat": ("py-feat", "pyfeat", "a py-feat Fex table saved as CSV", "Identity column, else the row's "
                      "position among its frame's rows (0 first)"),
}
AU_THRESHOLD_HELP = ("tool tracks' AUs are present where OpenFace's intensity AU_r (0-5) or py-feat's probability "
                     "is at least T (default: OpenFace's AU_c, py-feat p >= 0.5); the rule used is printed")
RULES = {
    "import-openface": "OpenFace frame f (1-based) is video frame f-1; AU_r (0-5) is kept as intensity, AU_c as "
    "presence; success 0 leaves the frame unlabelled; the file must cover the video (2 frames of slack).",
    "import-pyfeat": "py-feat frame f (0-based) is video frame f; the seven emotion probabilities become the "
    "track's expression probabilities (Other 0), AU probabilities its AU probabilities (presence: p >= 0.5).",
}


def register(sub: Any) -> None:
    for command, (label, track, what, ids) in FORMATS.items():
        p = sub.add_parser(command, help=f"import {what} as a read-only tool track",
                           description=f"Read {what} into a read-only tool track of one project video, scored, "
                           f"shown and accepted like a model track; its 68 landmarks become the video's face cache "
                           f"(the same 5-point alignment as `affecttrace faces`). {RULES[command]} Several faces "
                           f"in a frame: the most confident one, or --face-id. The whole file is checked first: "
                           "nothing is imported from a file with any problem.")
        p.add_argument("project", metavar="PROJECT")
        p.add_argument("csv", metavar="CSV", help=f"the {label} file")
        p.add_argument("--video", metavar="V", help="the project video it was made from (default: the video named "
                       "like the file, else the project's only video)")
        p.add_argument("--track", default=None, metavar="NAME", help=f"the track's name (default {track!r})")
        p.add_argument("--face-id", default=None, metavar="ID", help=f"keep this face in every frame (its {ids})")
        p.add_argument("--no-faces", action="store_true", help="leave the video's face cache as it is")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        add_events_flag(p)
        p.set_defaults(func=run)


def pick_video(project: Project, csv: str, video: str | None) -> str:
    """--video, else the video named like the file (OpenFace names its output after the video), else the only one."""
    from ..errors import ProjectError

    if video is not None:
        if video not in project.videos:
            raise ProjectError(f"no video {video!r} in the project", project.folder)
        return video
    stem = Path(csv).stem
    if stem in project.videos:
        return stem
    if len(project.videos) == 1:
        return next(iter(project.videos))
    raise ProjectError(f"which video is {Path(csv).name} from? the project has {len(project.videos)}; "
                       "name it with --video", project.folder)


def run(args: argparse.Namespace) -> int:
    from ..interchange.openface import read_openface
    from ..interchange.pyfeat import read_pyfeat
    from ..interchange.toolimport import import_tool
    from ..project import Project

    reader = read_openface if args.command == "import-openface" else read_pyfeat
    frames = reader(args.csv, args.face_id)  # validated before the project is opened for writing
    project = Project.open_writable(args.project)
    try:
        video = pick_video(project, args.csv, args.video)
        res = import_tool(project, video, frames, args.track, not args.no_faces, progress(args, args.command))
    finally:
        project.close()
    out = {"tool": res.tool, "video": res.video, "track": res.track, "frames": res.frames, "rows": res.rows,
           "frames_with_face": res.frames_with_face, "au": res.au_names,
           "face_cache": None if res.face_cache is None else str(res.face_cache), "notes": res.notes}
    report(args, out, res.lines())
    return 0
