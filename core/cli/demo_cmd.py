"""`affecttrace demo DIR`: create the demo project (drawn face, three annotators, ground truth)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import AffectTraceError
from ..progress import bar
from . import options as opt


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo", help="create the demo project",
        description="Create a demo project in DIR (new or empty): a generated video with audio of a drawn face "
                    "whose valence-arousal, expressions and action units are known, three simulated annotators "
                    "(ann1, ann2, ann3) with reaction lags and noise, and the ground truth in ground_truth.h5.")
    p.add_argument("dir", type=Path, help="folder to create the project in")
    p.add_argument("--seed", type=opt.seed, default=0,
                   help="random seed; the same seed gives the same project (default 0)")
    p.add_argument("--duration", type=opt.seconds, default=180.0, metavar="S",
                   help="video length in seconds (default 180)")
    p.add_argument("--fps", default="25", metavar="F", help="frame rate, e.g. 25 or 30000/1001 (default 25)")
    p.add_argument("--size", default="320x240", metavar="WxH", help="frame size, even numbers (default 320x240)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import create_demo, load_ground_truth
    from ..media.writer import as_fraction

    try:
        fps = as_fraction(args.fps)
        w, h = (int(x) for x in str(args.size).lower().split("x"))
    except (ValueError, ZeroDivisionError):
        raise AffectTraceError(f"bad --fps {args.fps!r} or --size {args.size!r} (expected e.g. 25 and 320x240)")
    try:
        project = create_demo(args.dir, seed=args.seed, duration_s=args.duration, fps=fps, size=(w, h),
                              progress=bar("demo"))
    except ValueError as e:
        raise AffectTraceError(str(e), args.dir) from e
    with project:
        entry = project.videos["demo"]
        truth = load_ground_truth(project.folder)
        lags = ", ".join(f"{k} {v:.2f} s" for k, v in truth.lags.items())
        print(f"created demo project {project.folder}: video '{entry.name}' {entry.frame_count} frames at "
              f"{entry.fps} fps ({entry.duration_s:.1f} s, {entry.width}x{entry.height}, audio {entry.audio_rate} Hz); "
              f"annotators {', '.join(project.annotators)} (VA lags {lags}); AU set {project.au_set.name}; "
              f"ground truth in ground_truth.h5")
    return 0
