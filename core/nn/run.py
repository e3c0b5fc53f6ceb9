"""Training on a project: datasets from its face caches and a label track, runs under ``models/<run_id>/``."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from torch.utils.data import ConcatDataset

from ..errors import AffectTraceError
from ..labels import EXPRESSIONS
from ..progress import CancelToken
from ..tracks import TrackKind
from . import ddp
from .checkpoint import LabelSpaces
from .config import EACH_ANNOTATOR, TrainConfig
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
    raise AffectTraceError(f"choose the labels to train on with --label-track (tracks: {choices}; "
                           f"{EACH_ANNOTATOR}: every annotator); `affecttrace fuse` makes a fused track from "
                           "several annotators", project.folder)


class Pooled(ConcatDataset):
    """Datasets of several label sources (one per annotator) as one; ``skipped`` and ``close`` as theirs."""

    def __init__(self, parts: list[Any]) -> None:
        super().__init__(parts)
        self.parts = parts
        self.skipped = {k: v for p in parts for k, v in p.skipped.items()}

    def close(self) -> None:
        for p in self.parts:
            p.close()


def label_sources(project: Any, label_track: str, videos: list[str]) -> dict[str, list[str]]:
    """{track: videos that have it}: one track, or with EACH_ANNOTATOR every annotator's human track."""
    if label_track != EACH_ANNOTATOR:
        return {label_track: videos}
    out: dict[str, list[str]] = {}
    for v in videos:
        for name in project.track_names(v):
            if project.track_source(v, name).kind == TrackKind.HUMAN:
                out.setdefault(name, []).append(v)
    if not out:
        raise AffectTraceError("no annotator has labels on the training videos", project.folder)
    return out


def run_videos(project: Any, cfg: TrainConfig) -> tuple[list[str], list[str]]:
    """(training videos, validation videos) of a config; with time blocks both are the training videos."""
    from ..data import videos_in_split

    try:
        train = videos_in_split(project, cfg.train_split)
        val = train if cfg.val_blocks > 0 else [v for v in videos_in_split(project, cfg.val_split) if v not in train]
    except KeyError as e:
        raise AffectTraceError(str(e.args[0]), project.folder) from None
    return train, val


def _dataset(project: Any, cfg: TrainConfig, videos: list[str], frames: dict[str, Any] | None, train: bool) -> Any:
    from ..data import face_dataset

    preset = get_preset(cfg.preset)
    parts = [face_dataset(project, track, vids, cfg.tasks, augment=cfg.augment and train, window=preset.window,
                          audio=preset.audio, frames=frames)
             for track, vids in label_sources(project, cfg.label_track, videos).items()]
    return parts[0] if len(parts) == 1 else Pooled(parts)


def build_datasets(project: Any, cfg: TrainConfig) -> tuple[Any, Any, list[str]]:
    """(train set, validation set or None, notes) from core.data for the preset's window and audio."""
    from ..data import time_blocks

    train_videos, val_videos = run_videos(project, cfg)
    if not train_videos:
        raise AffectTraceError(f"no video in the training selection {cfg.train_split!r}", project.folder)
    if not cfg.label_track:
        cfg.label_track = default_label_track(project, train_videos)
    train_frames = val_frames = None
    if cfg.val_blocks > 0:
        blocks = {v: time_blocks(project.videos[v].frame_count, float(project.videos[v].fps_fraction),
                                 cfg.val_blocks, cfg.seed) for v in train_videos}
        train_frames = {v: b[0] for v, b in blocks.items()}
        val_frames = {v: b[1] for v, b in blocks.items()}
    train = _dataset(project, cfg, train_videos, train_frames, True)
    notes = [f"{v}: {why}" for v, why in train.skipped.items()]
    if len(train) == 0:
        raise AffectTraceError(f"no labelled face frames to train on in {cfg.train_split!r} with labels "
                               f"{cfg.label_track!r} ({'; '.join(notes) or 'nothing labelled'})", project.folder)
    val = None
    if val_videos:
        val = _dataset(project, cfg, val_videos, val_frames, False)
        if cfg.val_blocks <= 0:
            notes += [f"{v}: {why}" for v, why in val.skipped.items()]
        if len(val) == 0:
            val.close()
            val = None
    if val is None:
        notes.append(f"no validation frames in {cfg.val_split!r}: the training loss picks the best epoch "
                     "(--val-blocks 0.2 holds out time blocks of the training videos)")
    return train, val, notes


def new_run_id(preset: str, models_dir: Path) -> str:
    base = f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_id, k = base, 1
    while (models_dir / run_id).exists():
        k += 1
        run_id = f"{base}-{k}"
    return run_id


def resume_dir(project: Any, resume: str) -> Path:
    """The folder of a run to continue: a folder, or a run id under the project's models/."""
    run_dir = Path(resume) if Path(resume).is_dir() else Path(project.models_dir) / resume
    if not (run_dir / LAST).is_file():
        raise AffectTraceError("no run to resume there (no last.pt)", run_dir)
    return run_dir


def train_project(project: Any, cfg: TrainConfig, on_event: Callable[[TrainEvent], None] | None = None,
                  cancel: CancelToken | None = None, resume: str | None = None,
                  resume_overrides: dict[str, Any] | None = None, notes: list[str] | None = None) -> TrainResult:
    """Train on a project (under torchrun: one rank of a DDP run).

    ``resume``: a run id or folder to continue; its saved config is used, with ``resume_overrides``
    (e.g. more ``epochs``, another ``device``) applied on top; ``cfg`` is then ignored."""
    models = Path(project.models_dir)
    if resume:
        run_dir = resume_dir(project, resume)
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
