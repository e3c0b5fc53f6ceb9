"""`affecttrace predict PROJECT|MEDIA --checkpoint C`: pre-annotate with a trained model.

For a project: model tracks (VA with its MC-dropout spread, EXPR probabilities and labels, AU probabilities
and labels) on every video with a face cache (or the videos named, or every video without human labels),
saved into the project with their provenance, or into a separate track file (--tracks-out) that an app
holding the project open imports. For a media file: faces are found first (like `affecttrace faces`), and
the predictions are written as a CSV table.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AffectTraceError
from ..fsio import atomic_write_bytes
from ..safepaths import check_output
from ..words import DEVICE_HELP
from . import options as opt
from .reporting import add_events_flag, message, progress, report

if TYPE_CHECKING:
    from ..project import Project


def register(sub: Any) -> None:
    p = sub.add_parser("predict", help="run a trained model over a project or a video -> model tracks",
                       description="Run a checkpoint (best.pt/last.pt, or a run id under PROJECT/models) over "
                       "face caches in batches. Frames without a face stay unlabelled.")
    p.add_argument("target", metavar="PROJECT|MEDIA|FOLDER", help="a project, a video, or a folder of images "
                   "(one CSV row per image with the class probabilities)")
    p.add_argument("--checkpoint", required=True, metavar="C",
                   help="checkpoint file, run folder, or run id under PROJECT/models (its best.pt)")
    p.add_argument("--video", action="append", metavar="V", help="only this project video (repeatable)")
    p.add_argument("--unlabelled", action="store_true",
                   help="every project video without human or fused labels (those without a face cache are "
                   "skipped with a note)")
    p.add_argument("--tracks-out", default=None, metavar="FILE.h5",
                   help="project: write the model tracks to this track file instead of the project (opened "
                   "read-only, so this runs while the app holds it)")
    p.add_argument("--track-name", default=None, metavar="N", help="name of the model track (default model-<run>)")
    p.add_argument("--smooth", type=opt.count, default=0, metavar="S", help="centred moving average over S frames")
    p.add_argument("--threshold", type=opt.probability, default=None,
                   help="AU probability threshold (default: the run's)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--batch-size", type=opt.positive, default=64)
    p.add_argument("--evaluate", default=None, metavar="REF",
                   help="project: score the model track against this human or fused track (ABAW)")
    p.add_argument("--abaw", type=int, choices=(2020, 2022), default=2022)
    p.add_argument("--backend", default="auto", help="MEDIA, FOLDER: face backend (auto, fan, dlib); FOLDER: "
                   "'crops' when the images are face crops already")
    p.add_argument("-o", "--output", default=None, metavar="CSV",
                   help="MEDIA, FOLDER: CSV to write (default MEDIA.csv, FOLDER.csv)")
    opt.add_force(p)
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    add_events_flag(p)
    p.set_defaults(func=run)


def output_path(args: argparse.Namespace, default: Path, *inputs: Path) -> Path:
    """-o (else ``default``), refused when it is an input, a project file or another kind of file."""
    return check_output(Path(args.output) if args.output else default, inputs, "text", args.force)


def resolve_checkpoint(spec: str, project_folder: Path | None) -> Path:
    from ..errors import CheckpointError

    path = Path(spec)
    candidates = [path, path / "best.pt", path / "last.pt"]
    if project_folder is not None:
        run = Path(project_folder) / "models" / spec
        candidates += [run / "best.pt", run / "last.pt"]
    for c in candidates:
        if c.is_file():
            return c
    raise CheckpointError("no checkpoint there (a .pt file, a run folder, or a run id under PROJECT/models)", path)


def run(args: argparse.Namespace) -> int:
    from ..errors import AffectTraceError
    from .images_cmds import is_image_folder, predict_images

    target = Path(args.target)
    if is_image_folder(target):
        if args.video or args.evaluate or args.unlabelled or args.tracks_out:
            raise AffectTraceError("--video, --unlabelled, --tracks-out and --evaluate work on projects, not on a "
                                   "folder of images", target)
        return predict_images(args, target)
    if target.is_dir() or target.name == "project.json":
        return _project(args, target)
    from ..media import require_video

    require_video(target)
    if args.video or args.evaluate or args.unlabelled or args.tracks_out:
        raise AffectTraceError("--video, --unlabelled, --tracks-out and --evaluate work on projects, not on a "
                               "media file", target)
    return _media(args, target)


def _videos(args: argparse.Namespace, project: Project) -> list[str] | None:
    """The videos to run on: --video, --unlabelled (with a face cache), or None for every cached video."""
    from ..errors import AffectTraceError
    from ..faces import face_cache_path
    from ..modeltracks import unlabelled_videos

    if args.video and args.unlabelled:
        raise AffectTraceError("give --video or --unlabelled, not both")
    if not args.unlabelled:
        return args.video
    videos = unlabelled_videos(project)
    if not videos:
        raise AffectTraceError("every video has human or fused labels: nothing for --unlabelled", project.folder)
    lacking = [v for v in videos if not face_cache_path(project, v).exists()]
    if lacking:
        message(args, f"no face cache, skipped (run `affecttrace faces`): {', '.join(lacking)}", "warning")
    videos = [v for v in videos if v not in lacking]
    if not videos:
        raise AffectTraceError("no video without labels has a face cache: run `affecttrace faces` first",
                               project.folder)
    return videos


def _project(args: argparse.Namespace, target: Path) -> int:
    from ..errors import AffectTraceError
    from ..modeltracks import write_prediction_file
    from ..nn.predictor import evaluate_model_tracks, predict_project, predicted
    from ..project import open_project

    elsewhere = args.tracks_out is not None
    if elsewhere and args.evaluate:
        raise AffectTraceError("--evaluate scores tracks in the project; with --tracks-out use `affecttrace "
                               "compare` after importing them")
    project = open_project(target, readonly=elsewhere)
    try:
        if project.readonly and not elsewhere:
            from ..errors import ProjectLockedError

            raise ProjectLockedError(f"cannot change the project: {project.readonly_reason}; "
                                     "--tracks-out FILE writes the tracks beside it", target)
        ckpt = resolve_checkpoint(args.checkpoint, project.folder)
        tracks = predict_project(project, ckpt, _videos(args, project), args.track_name, args.smooth,
                                 args.threshold, args.device, args.batch_size, save=not elsewhere,
                                 progress_for=lambda v: progress(args, f"predict {v}"))
        if not tracks:
            raise AffectTraceError("cancelled before any video was predicted", project.folder)
        name = next(iter(tracks.values())).name
        if elsewhere:
            write_prediction_file(check_output(args.tracks_out, (target, ckpt), "HDF5", args.force),
                                  list(tracks.values()))
        out: dict[str, Any] = {"checkpoint": str(ckpt), "track": name,
                               "videos": {v: {"frames": t.n_frames, "frames_predicted": int(predicted(t).sum())}
                                          for v, t in tracks.items()},
                               "source": next(iter(tracks.values())).source.to_dict(),
                               "tracks_file": str(Path(args.tracks_out).absolute()) if elsewhere else None}
        if args.evaluate:
            tasks = tuple(next(iter(tracks.values())).source.recipe.get("tasks", ()))
            res = evaluate_model_tracks(project, name, args.evaluate, tasks, list(tracks), args.abaw)
            out["evaluation"] = {"reference": args.evaluate, **res}
    finally:
        project.close()
    lines = [f"{v}: {info['frames_predicted']}/{info['frames']} frames predicted -> track {name!r}"
             for v, info in out["videos"].items()]
    for task, res in out.get("evaluation", {}).items():
        if task == "reference":
            continue
        o = res["overall"]
        lines.append(f"{task} vs {args.evaluate}: score {o['score']:.4f} over {o['frames']} frames")
    report(args, out, lines)
    return 0


def _media(args: argparse.Namespace, media: Path) -> int:
    import shutil

    from ..faces.backends import make_backend
    from ..faces.pipeline import default_media_cache, process_video
    from ..interchange.csvio import track_frame
    from ..labels import AUSet
    from ..nn.predictor import Predictor, predicted
    from ..project import Project

    ckpt = resolve_checkpoint(args.checkpoint, None)
    out = output_path(args, media.with_suffix(".csv"), media, ckpt)
    pred = Predictor(ckpt, args.device, args.batch_size)
    cache = default_media_cache(media)
    process_video(media, cache, make_backend(args.backend), progress=progress(args, "faces"))
    with tempfile.TemporaryDirectory(prefix="affecttrace-predict-") as tmp:
        project = Project.create(Path(tmp) / "p", au_set=AUSet("custom", pred.aus))
        try:
            entry = project.add_video(media.resolve(), name=media.stem)
            faces = project.cache_dir("faces") / f"{entry.name}.h5"
            faces.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cache, faces)
            raw = pred.outputs(project, entry.name, progress(args, f"predict {entry.name}"))
            track = pred.to_track(project, entry.name, raw, args.track_name or f"model-{pred.run_id}",
                                  args.smooth, args.threshold)
            from fractions import Fraction

            table = track_frame(track, Fraction(entry.fps))
        finally:
            project.close()
    atomic_write_bytes(out, table.to_csv(index=False).encode("utf-8"), error=AffectTraceError)
    done = int(predicted(track).sum())
    report(args, {"media": str(media), "csv": str(out), "frames": track.n_frames, "frames_predicted": done,
                  "source": track.source.to_dict()}, f"{media}: {done}/{track.n_frames} frames predicted -> {out}")
    return 0
