"""`affecttrace faces PROJECT|MEDIA`: detect, track and align faces into per-video face caches."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import AffectTraceError
from ..faces.backends import BACKENDS
from . import options as opt
from .reporting import add_events_flag, progress, report, stream_of


def register(sub: Any) -> None:
    p = sub.add_parser("faces", help="detect, track and align faces into face caches",
                       description="Detect and track the face of every frame, fit 68 landmarks and store "
                       "aligned 112x112 crops in a resumable HDF5 cache (project: cache/faces/<video>.h5).")
    p.add_argument("target", metavar="PROJECT|MEDIA", help="a project folder (or its project.json) or a video file")
    p.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="auto: fan when face-alignment's weights are present, else dlib (default auto)")
    p.add_argument("--video", action="append", metavar="V", help="only this project video (repeatable)")
    p.add_argument("--every", type=opt.positive, default=None, metavar="N",
                   help="full detection at least every N frames, tracking in between (default 10)")
    p.add_argument("--landmarks", metavar="FILE",
                   help="reference backend: landmarks file (.h5 with landmarks68, or .npy (n, 68, 2)); "
                   "default for a project: its ground_truth.h5")
    p.add_argument("--cache", metavar="PATH", help="MEDIA: where to write the cache (default: user cache folder)")
    p.add_argument("--allow-download", action="store_true",
                   help="fan: let face-alignment download its weights when they are missing")
    p.add_argument("--force", action="store_true", help="redo finished caches")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    add_events_flag(p)
    p.set_defaults(func=run)


def _line(run: dict[str, Any]) -> str:
    if run.get("note", "").startswith("media missing"):
        return f"{run['video']}: skipped, {run['note']}"
    state = "" if run["complete"] else " (incomplete)"
    speed = f", {run['fps']:.1f} fps" if run["processed"] else ", cached"
    return (f"{run['video']}: {run['frames']} frames, {run['frames_with_face']} with a face, "
            f"{len(run['frames_without_face'])} without{state} [{run['backend']}{speed}] -> {run['cache']}")


def run(args: argparse.Namespace) -> int:
    from ..faces.pipeline import DEFAULT_EVERY, default_media_cache, process_project, process_video

    every = args.every if args.every is not None else DEFAULT_EVERY
    if every < 1:
        raise AffectTraceError("--every must be at least 1")
    target = Path(args.target)
    if target.is_dir() or target.name == "project.json":
        from ..project import open_project

        # read-only: face caches live beside the annotations, so this runs while the GUI holds the project
        project = open_project(target, readonly=True)
        try:
            runs = process_project(project, backend=args.backend, videos=args.video, every=every,
                                   reference=args.landmarks, allow_download=args.allow_download,
                                   overwrite=args.force, progress_for=lambda v: progress(args, f"faces {v}"))
        finally:
            project.close()
        out: dict[str, Any] = {"project": str(project.folder), "videos": {v: r.to_dict() for v, r in runs.items()}}
        lines = [_line(r) for r in out["videos"].values()]
        failed = any(r.get("note", "").startswith("media missing") for r in out["videos"].values())
    else:
        from ..media import require_video

        require_video(target)
        if args.video:
            raise AffectTraceError("--video selects videos of a project, not of a media file", target)
        from ..faces.backends import make_backend

        backend = make_backend(args.backend, reference=args.landmarks, allow_download=args.allow_download)
        cache = Path(args.cache) if args.cache else default_media_cache(target)
        r = process_video(target, cache, backend, every=every, overwrite=args.force, progress=progress(args, "faces"))
        out = r.to_dict()
        lines, failed = [_line(out)], False
    report(args, out, lines)
    stream = stream_of(args)
    if failed and stream is not None:  # the app shows why the job failed
        stream.message("; ".join(x for x in lines if ": skipped, " in x), "warning")
    return 1 if failed else 0
