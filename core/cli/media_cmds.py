"""`affecttrace info PATH` and `affecttrace frame MEDIA INDEX -o OUT.png`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import AffectTraceError, MediaError
from ..fsio import atomic_write_bytes
from ..safepaths import check_output
from . import options as opt


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("info", help="describe a project, a media file or an image dataset",
                              description="Describe a project (folder or project.json), a media file (frame "
                              "rate, frames that decode, size, duration, audio) or an image dataset made by "
                              "import-images (database, splits, images per class, label map, how the crops "
                              "were made).")
    p.add_argument("path", type=Path, help="media file, project folder, project.json or image dataset .h5")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run_info)

    p = subparsers.add_parser("frame", help="write one exact video frame as a PNG",
                              description="Write frame INDEX (0-based, presentation order) of MEDIA as a "
                              "lossless PNG.")
    p.add_argument("media", type=Path, help="video file")
    p.add_argument("index", type=int, help="frame index, 0-based")
    p.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    opt.add_force(p, "replace an existing file that is not a PNG")
    p.set_defaults(func=run_frame)


def _is_project(path: Path) -> bool:
    return path.name == "project.json" or (path.is_dir() and (path / "project.json").exists())


def _is_hdf5(path: Path) -> bool:
    """A regular file that starts as HDF5 does (an image dataset made by import-images)."""
    from ..safepaths import file_content_kind, require_file

    try:
        return file_content_kind(require_file(path)) == "HDF5"
    except (AffectTraceError, OSError):
        return False


def describe_media(path: Path) -> dict[str, Any]:
    from ..media import require_video

    info, problems = require_video(path)
    return {**info.to_dict(), "problems": problems}


def run_info(args: argparse.Namespace) -> int:
    path: Path = args.path
    if _is_project(path):
        from ..project import describe  # written beside this module; imported only when needed

        data = describe(path)
    elif path.is_dir():
        raise MediaError("is a folder without project.json (neither a project nor a media file)", path)
    elif _is_hdf5(path):
        from ..imagedata.cache import describe_dataset

        data = describe_dataset(path)
    else:
        data = describe_media(path)
    if args.json:
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        _print_text(data)
    return 0


def _print_text(data: dict[str, Any], indent: str = "") -> None:
    width = max((len(str(k)) for k in data), default=0)
    for key, value in data.items():
        if isinstance(value, dict) and value:
            print(f"{indent}{key}:")
            _print_text(value, indent + "  ")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            print(f"{indent}{key}:")
            for item in value:
                print(f"{indent}  -")
                _print_text(item, indent + "    ")
        elif isinstance(value, float):
            print(f"{indent}{str(key).ljust(width)}  {value:.3f}")
        else:
            print(f"{indent}{str(key).ljust(width)}  {value}")


def run_frame(args: argparse.Namespace) -> int:
    import cv2

    from ..media import MediaReader

    out: Path = args.output
    if out.suffix.lower() != ".png":
        raise AffectTraceError("output must be a .png file (lossless)", out)
    if not out.parent.is_dir():
        raise AffectTraceError("output folder does not exist", out.parent)
    check_output(out, (args.media,), "PNG", args.force)
    with MediaReader(args.media, cache_frames=1, readahead=False) as reader:
        rgb = reader.frame(args.index)
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise AffectTraceError("could not encode the PNG", out)
    atomic_write_bytes(out, png.tobytes(), error=AffectTraceError)
    print(f"{out}: frame {args.index} of {args.media.name} ({rgb.shape[1]}x{rgb.shape[0]})")
    return 0
