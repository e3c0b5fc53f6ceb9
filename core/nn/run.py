"""Training on a project: datasets from its face caches and a label track, runs under ``models/<run_id>/``."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from ..errors import AffectTraceError
from ..labels import EXPRESSIONS
from ..progress import CancelToken
from ..tracks import TrackKind
from . import ddp
from .checkpoint import LabelSpaces
from .config import TrainConfig
from .presets import get_preset
from .trainer import CONFIG, LAST, Trainer, TrainResult, resolve_device
from .trainevents import TrainEvent


def project_labels(project: Any) -> LabelSpaces:
    return LabelSpaces(EXPRESSIONS, tuple(project.au_set.aus), project.au_set.name)


def default_label_track(project: Any, videos: list[str]) -> str:
    """The fused track when the videos have one, else the only human track; otherwise ask the user."""
    names: dict[str, set[str]] = {}
    for v in videos:
        for name in project.track_names(v):
            kind = project.track_source(v, name).kind
            names.setdefault(kind.value, set()).add(name)
    fused = sorted(names.get(TrackKind.FUSED.value, ()))
    if len(fused) == 1:
        return fused[0]
    human = sorted(names.get(TrackKind.HUMAN.value, ()))
    if not fused and len(human) == 1:
        return human[0]
    choices = ", ".join(sorted(set().union(*names.values()))) if names else "none"
    raise AffectTraceError(f"choose the labels to train on with --label-track (tracks: {choices}); "
                           "`affecttrace fuse` makes a fused track from several annotators", project.folder)


def build_datasets(project: Any, cfg: TrainConfig) -> tuple[Any, Any, list[str]]:
    """(train set, validation set or None, notes) from core.data for the preset's window and audio."""
    from ..data import face_dataset, videos_in_split

    preset = get_preset(cfg.preset)
    train_videos = videos_in_split(project, cfg.train_split)
    if not train_videos:
        raise AffectTraceError(f"no video in the {cfg.train_split!r} split", project.folder)
    if not cfg.label_track:
        cfg.label_track = default_label_track(project, train_videos)
    opts = {"window": preset.window, "audio": preset.audio}
    train = face_dataset(project, cfg.label_track, cfg.train_split, cfg.tasks, augment=cfg.augment, **opts)
    notes = [f"{v}: {why}" for v, why in train.skipped.items()]
    if len(train) == 0:
        raise AffectTraceError(f"no labelled face frames to train on in split {cfg.train_split!r} with track "
                               f"{cfg.label_track!r} ({'; '.join(notes) or 'nothing labelled'})", project.folder)
    val = None
    if videos_in_split(project, cfg.val_split):
        val = face_dataset(project, cfg.label_track, cfg.val_split, cfg.tasks, augment=False, **opts)
        notes += [f"{v}: {why}" for v, why in val.skipped.items()]
        if len(val) == 0:
            val = None
    if val is None:
        notes.append(f"no validation frames in split {cfg.val_split!r}: the training loss picks the best epoch")
    return train, val, notes


def new_run_id(preset: str, models_dir: Path) -> str:
    base = f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_id, k = base, 1
    while (models_dir / run_id).exists():
        k += 1
        run_id = f"{base}-{k}"
    return run_id


def train_project(project: Any, cfg: TrainConfig, on_event: Callable[[TrainEvent], None] | None = None,
                  cancel: CancelToken | None = None, resume: str | None = None,
                  resume_overrides: dict[str, Any] | None = None, notes: list[str] | None = None) -> TrainResult:
    """Train on a project (under torchrun: one rank of a DDP run).

    ``resume``: a run id or folder to continue; its saved config is used, with ``resume_overrides``
    (e.g. more ``epochs``, another ``device``) applied on top; ``cfg`` is then ignored."""
    models = Path(project.models_dir)
    if resume:
        run_dir = Path(resume) if Path(resume).is_dir() else models / resume
        if not (run_dir / LAST).is_file():
            raise AffectTraceError("no run to resume there (no last.pt)", run_dir)
        cfg = TrainConfig.load(run_dir / CONFIG)
        for name, value in (resume_overrides or {}).items():
            setattr(cfg, name, value)
    else:
        info = ddp.init(resolve_device(cfg.device, ddp.env_info().local_rank))
        run_id = cfg.run_id or new_run_id(cfg.preset, models)
        cfg.run_id = ddp.gather_objects(run_id, info)[0]  # every rank writes under rank 0's name
        run_dir = models / cfg.run_id
    labels = project_labels(project)
    train, val, found = build_datasets(project, cfg)
    if notes is not None:
        notes.extend(found)
    try:
        return Trainer(cfg, train, val, labels, run_dir, cancel, on_event, resume=bool(resume)).fit()
    finally:
        for ds in (train, val):
            if ds is not None:
                ds.close()
