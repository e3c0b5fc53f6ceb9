"""`affecttrace train PROJECT --preset P`: train a multi-task model on a project's face caches and labels.

Runs as one process, or under ``torchrun --nproc_per_node N -m core.cli train ...`` as a DDP run.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AffectTraceError
from ..faces.backends import BACKENDS
from ..fsio import read_text
from ..jobevents import EventStream
from ..labels import TASKS
from ..words import AMP_CHOICES, DEFAULT_VAL_BLOCKS, DEVICE_HELP, EndState
from . import options as opt
from .reporting import add_events_flag, message, progress, report, stream_of

if TYPE_CHECKING:
    from ..nn.config import TrainConfig
    from ..project import Project


def register(sub: Any) -> None:
    p = sub.add_parser("train", help="train a multi-task model (VA, EXPR, AU) on a project and/or image datasets",
                       description="Train a model preset on a project's face caches (`affecttrace faces`) with "
                       "labels from one track, on image datasets (--images), or on both. The run goes to "
                       "PROJECT/models/<run_id>/ (or --models): config.toml, best.pt, last.pt, history.csv, "
                       "summary.json. Under torchrun it runs data-parallel.")
    p.add_argument("project", metavar="PROJECT", nargs="?", default=None,
                   help="the project to train on (optional with --images)")
    p.add_argument("--images", action="append", metavar="DATASET.h5", default=None,
                   help="also (or only) train on this image dataset (`affecttrace import-images`; repeatable): "
                   "batches mix its crops with the project's, tasks a source lacks are masked")
    p.add_argument("--expr-space", default=None, metavar="SPACE",
                   help="the run's expression classes (affwild2, affwild2-7, affectnet-8, affectnet-7, rafdb-7; "
                   "default: the project's, else the first image dataset's); labels map through core.labels")
    p.add_argument("--finetune", default=None, metavar="CKPT",
                   help="start from this checkpoint (file or run folder): backbone kept, heads remapped to the "
                   "run's classes or re-initialised, as the start message and summary.json say")
    p.add_argument("--models", default=None, metavar="DIR",
                   help="folder for the run (default PROJECT/models, else models/ beside the first --images)")
    p.add_argument("--compile", action="store_true", help="torch.compile the network (CUDA: faster steps "
                   "after a compile of a minute or two)")
    p.add_argument("--preset", default=None, help="model preset (`affecttrace models`; default mt-tiny)")
    p.add_argument("--tasks", default=None, help=f"comma list of {','.join(TASKS)} (default all)")
    p.add_argument("--label-track", default=None, metavar="T",
                   help="track with the labels (default: the fused track, or the only annotator); @each: every "
                   "annotator's labels, each frame once per annotator who labelled it (validation likewise)")
    p.add_argument("--epochs", type=opt.positive, default=None)
    p.add_argument("--batch-size", type=opt.batch_size, default=None, metavar="B",
                   help="samples per step, or 'auto' (the preset and device decide: 512 frames on a large GPU)")
    p.add_argument("--lr", type=opt.learning_rate, default=None)
    p.add_argument("--optimizer", choices=("adamw", "sgd"), default=None)
    p.add_argument("--schedule", choices=("cosine", "step", "constant"), default=None)
    p.add_argument("--warmup-steps", type=opt.count, default=None)
    p.add_argument("--weight-decay", type=opt.nonneg, default=None)
    p.add_argument("--grad-clip", type=opt.nonneg, default=None, help="max gradient norm (0: off)")
    p.add_argument("--task-weights", type=opt.task_weights, default=None, metavar="W", help="e.g. va=1,expr=0.5,au=1")
    p.add_argument("--device", default=None, help=f"{DEVICE_HELP} (default auto)")
    p.add_argument("--amp", choices=AMP_CHOICES, default=None,
                   help="mixed precision (default auto: bf16 on CUDA, none on CPU)")
    p.add_argument("--no-channels-last", action="store_true", help="CUDA: keep NCHW memory layout")
    p.add_argument("--seed", type=opt.seed, default=None)
    p.add_argument("--workers", type=opt.count, default=None,
                   help="data loader processes (default: one per spare core on CUDA, 0 on the CPU)")
    p.add_argument("--early-stopping", type=opt.count, default=None, metavar="N",
                   help="stop after N epochs without a better validation score")
    p.add_argument("--max-steps", type=opt.count, default=None, metavar="N", help="at most N steps per epoch")
    p.add_argument("--pretrained", default=None, metavar="FILE",
                   help="local backbone weights (torchvision ResNet/VGG or VGG-FACE state dict)")
    p.add_argument("--no-augment", action="store_true", help="no flip/crop/colour augmentation")
    p.add_argument("--train-split", default=None, help="project split to train on (default train)")
    p.add_argument("--val-split", default=None, help="project split to validate on (default val)")
    p.add_argument("--train-video", action="append", metavar="V", help="train on this video (repeatable; "
                   "instead of --train-split)")
    p.add_argument("--val-video", action="append", metavar="V", help="validate on this video (repeatable)")
    p.add_argument("--val-blocks", type=opt.share, default=None, metavar="SHARE",
                   help="validate on this share of the training videos, held out in time blocks of 10 s with "
                   f"2 s guards (default {DEFAULT_VAL_BLOCKS:g} when no video validates: best.pt is never chosen "
                   "by the training loss)")
    p.add_argument("--faces-backend", default=None, choices=BACKENDS,
                   help="first make the missing or unfinished face caches of the run's videos with this "
                   "backend (as `affecttrace faces --backend B`)")
    p.add_argument("--arc-s", type=opt.number(0.0, above=True), default=None, help="ArcFace scale s (default 64)")
    p.add_argument("--arc-m", type=opt.nonneg, default=None, help="ArcFace margin m in radians (default 0.5)")
    p.add_argument("--abaw", type=int, choices=(2020, 2022), default=None, help="validation score protocol")
    p.add_argument("--config", default=None, metavar="TOML", help="start from a saved config.toml")
    p.add_argument("--run-id", type=opt.run_id, default=None, help="name of the run folder (default preset-date-time); "
                   "an existing run of that id is refused unless --force")
    p.add_argument("--force", action="store_true", help="replace an existing run of the same --run-id")
    p.add_argument("--resume", default=None, metavar="RUN", help="continue a run (id under models/ or folder)")
    p.add_argument("--json", action="store_true", help="print the run summary as JSON")
    add_events_flag(p)
    p.set_defaults(func=run)


_MAP = {"preset": "preset", "tasks": "tasks", "label_track": "label_track", "epochs": "epochs",
        "batch_size": "batch_size", "lr": "lr", "optimizer": "optimizer", "schedule": "schedule",
        "warmup_steps": "warmup_steps", "weight_decay": "weight_decay", "grad_clip": "grad_clip",
        "device": "device", "amp": "amp", "seed": "seed", "workers": "num_workers",
        "early_stopping": "early_stopping", "max_steps": "max_steps_per_epoch", "pretrained": "pretrained",
        "train_split": "train_split", "val_split": "val_split", "train_video": "train_split",
        "val_video": "val_split", "val_blocks": "val_blocks", "arc_s": "arc_s", "arc_m": "arc_m",
        "abaw": "abaw", "run_id": "run_id", "expr_space": "expr_space", "task_weights": "task_weights"}


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    for one, many in (("train_split", "train_video"), ("val_split", "val_video")):
        if getattr(args, one) is not None and getattr(args, many):
            raise AffectTraceError(f"give --{one.replace('_', '-')} or --{many.replace('_', '-')}, not both")
    out = {field: getattr(args, opt) for opt, field in _MAP.items() if getattr(args, opt) is not None}
    if args.no_channels_last:
        out["channels_last"] = False
    if args.no_augment:
        out["augment"] = False
    if args.compile:
        out["compile"] = True
    if args.finetune:
        from .predict_cmd import resolve_checkpoint

        out["finetune"] = str(resolve_checkpoint(args.finetune, args.project))
    if args.images:
        out["images"] = [str(Path(p).resolve()) for p in args.images]
    return out


def _config(args: argparse.Namespace) -> tuple[TrainConfig | None, dict[str, Any] | None]:
    """(the run's settings: --config with the options on top, None for --resume; the settings --resume
    changes, None for a new run)."""
    from ..nn.config import TrainConfig

    settings = _settings(args)
    if not args.resume:
        base = TrainConfig.load(args.config).to_dict() if args.config else {}
        base.update(settings)
        return TrainConfig.from_dict(base), None
    overrides = {k: v for k, v in settings.items() if k in ("epochs", "device", "amp", "num_workers")}
    ignored = sorted(set(settings) - set(overrides))
    if ignored:
        raise AffectTraceError(f"--resume keeps the run's settings; only --epochs, --device, --amp and "
                               f"--workers may change (got {', '.join(ignored)})")
    return None, overrides


def run(args: argparse.Namespace) -> int:
    from ..nn import ddp
    from ..nn.config import TrainConfig
    from ..nn.trainevents import progress_listener
    from ..progress import CancelToken
    from ..project import open_project

    cfg, overrides = _config(args)
    main_rank = ddp.env_info().main
    if args.project is None and not args.images and not args.resume:
        raise AffectTraceError("give a PROJECT, image datasets (--images DATASET.h5), or both")
    # opened first: a project that cannot be opened leaves no handler or log behind
    project = open_project(args.project, readonly=True) if args.project is not None else None
    cancel = CancelToken()

    def on_sigint(signum: int, frame: Any) -> None:  # first Ctrl-C: stop after this step, keep last.pt
        cancel.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    notes: list[str] = []
    stream = stream_of(args)
    # the run's events.jsonl is written also without --events, so the app can show any run
    log = stream if stream is not None else EventStream(out=open(os.devnull, "w")) if main_rank else None
    on_event = None
    if log is not None:
        to_log = _job_events(log, notes)
        on_event = to_log if stream is not None else _terminal_events(
            args, progress_listener(progress(args, "train")), to_log)

    # without --events this command ends the run's log; with --events core.cli.main writes error, result, end
    quiet_log = log if stream is None else None
    try:
        if args.faces_backend and main_rank and project is not None:
            _make_faces(args, project, cfg)
        result = _train(project, cfg if cfg is not None else TrainConfig(), on_event, cancel, args.resume,
                        overrides, notes, args.models, args.force)
        if result.status == EndState.DIVERGED and main_rank:
            args.end_status = EndState.DIVERGED.value
            raise AffectTraceError(result.message, result.run_dir)
    except AffectTraceError as e:
        if quiet_log is not None:
            quiet_log.emit("error", text=str(e), code=1)
            quiet_log.emit("end", status=getattr(args, "end_status", None) or EndState.FAILED.value, code=1)
        raise
    finally:
        if project is not None:
            project.close()
        signal.signal(signal.SIGINT, previous)
        if quiet_log is not None:
            quiet_log.close()
            quiet_log.out.close()
    if not main_rank:
        return 0 if result.status != EndState.DIVERGED else 1
    if stream is None:
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
    args.end_status = result.status
    summary = json.loads(read_text(result.run_dir / "summary.json"))
    best = summary.get("best_metrics") or {}
    scores = ", ".join(f"{k} {v:.4f}" for k, v in best.items() if k.startswith("val_") and v == v)
    report(args, summary, f"{result.status}: {result.message}; run {result.run_dir}"
           + (f"; best {scores}" if scores else ""))
    code = 130 if result.status == EndState.CANCELLED else 0
    if quiet_log is not None:
        _append(result.run_dir, [("result", summary), ("end", {"status": result.status, "code": code})])
    return code


def _append(run_dir: Any, events: list[tuple[str, dict[str, Any]]]) -> None:
    """The last events of a run trained without --events, into its events.jsonl."""
    from ..fsio import append_text
    from ..jobevents import encode

    append_text(run_dir / "events.jsonl", "".join(encode(kind, **fields) + "\n" for kind, fields in events))


def _train(project: Project | None, cfg: Any, on_event: Any, cancel: Any, resume: str | None, overrides: Any,
           notes: list[str], models_dir: str | None = None, replace: bool = False) -> Any:
    """train_project, with CUDA running out of memory said in one line."""
    import torch

    from ..nn.run import train_project

    try:
        return train_project(project, cfg, on_event, cancel, resume, overrides, notes, models_dir, replace)
    except torch.cuda.OutOfMemoryError as e:
        raise AffectTraceError(f"out of GPU memory ({str(e).splitlines()[0][:160]}): try a smaller --batch-size, "
                               "--amp bf16, or a lighter --preset; the last checkpoint of the run is kept") from None


def _make_faces(args: argparse.Namespace, project: Project, cfg: Any) -> None:
    """--faces-backend: the missing face caches of the run's videos first, in this same job."""
    from ..faces.pipeline import process_project, videos_without_faces
    from ..nn.config import TrainConfig
    from ..nn.run import run_videos

    if cfg is None:  # --resume: the run's own config says which videos
        from ..nn.run import resume_dir

        cfg = TrainConfig.load(resume_dir(project, args.resume) / "config.toml")
    train, val = run_videos(project, cfg)
    missing = videos_without_faces(project, list(dict.fromkeys(train + val)))
    if missing:
        message(args, f"making face caches first ({args.faces_backend}): {', '.join(missing)}")
        process_project(project, backend=args.faces_backend, videos=missing,
                        progress_for=lambda v: progress(args, f"faces {v}"))


def _terminal_events(args: argparse.Namespace, listener: Any, to_log: Any) -> Any:
    def on_event(ev: Any) -> None:
        to_log(ev)
        listener(ev)
        if ev.kind == "start":
            print(ev.message, file=sys.stderr)
        if ev.kind == "epoch" and not args.json:
            print(f"epoch {ev.epoch}/{ev.epochs}: " + ", ".join(f"{k} {v:.4f}" for k, v in ev.metrics.items())
                  + (" (best)" if ev.message else ""), file=sys.stderr)
    return on_event


def _job_events(stream: EventStream, notes: list[str]) -> Any:
    """TrainEvents as job events (core.jobevents); from the run's start on also in its events.jsonl."""
    from pathlib import Path

    from ..nn.config import TrainConfig

    def on_event(ev: Any) -> None:
        if ev.kind == "start":
            run_dir = Path(ev.info["run_dir"])
            stream.log_to(run_dir / "events.jsonl")
            config = TrainConfig.load(run_dir / "config.toml").to_dict()
            stream.emit("run", run_id=run_dir.name, run_dir=run_dir, config=config, device=ev.device,
                        resumed=ev.info.get("resumed", False), epochs=ev.epochs, total_steps=ev.total_steps,
                        train_samples=ev.info.get("train_samples"), val_samples=ev.info.get("val_samples"),
                        message=ev.message)
            for n in notes:
                stream.message(n, "warning" if n.startswith("no validation") else "info")
        elif ev.kind == "step":
            stream.emit("step", epoch=ev.epoch, epochs=ev.epochs, step=ev.step, total_steps=ev.total_steps,
                        losses=ev.losses, lr=ev.lr, images_per_s=ev.images_per_s, eta_s=ev.eta_s,
                        device=ev.device, memory_mb=ev.memory_mb)
        elif ev.kind == "epoch":
            stream.emit("epoch", epoch=ev.epoch, epochs=ev.epochs, step=ev.step, losses=ev.losses, lr=ev.lr,
                        metrics=ev.metrics, best=bool(ev.message), details=ev.details)
        elif ev.kind == "end" and ev.status == EndState.CANCELLED:
            stream.message(f"{ev.message}; the last checkpoint is kept", "info")
    return on_event
