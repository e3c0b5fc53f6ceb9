"""Training runs: on a project (its face caches and a label track; runs under ``models/<run_id>/``), on
image datasets (core.imagedata caches), or on both at once, every source's labels in the run's spaces."""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..data.batches import ConcatFrames
from ..errors import AffectTraceError
from ..labels import EXPRESSIONS, expression_mapping, expression_space
from ..progress import CancelToken
from ..runs import RunClaim, RunExistsError, claim_run, hold_run
from ..safepaths import check_name
from ..tracks import TrackKind
from ..words import DEFAULT_VAL_BLOCKS
from . import ddp
from .checkpoint import LabelSpaces
from .config import EACH_ANNOTATOR, TrainConfig
from .presets import get_preset
from .trainer import CONFIG, LAST, Trainer, TrainResult, resolve_device
from .trainevents import TrainEvent

if TYPE_CHECKING:
    from ..project import Project


def project_labels(project: Project) -> LabelSpaces:
    return LabelSpaces(EXPRESSIONS, tuple(project.au_set.aus), project.au_set.name)


def default_label_track(project: Project, videos: list[str]) -> str:
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


def label_sources(project: Project, label_track: str, videos: list[str]) -> dict[str, list[str]]:
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


def run_videos(project: Project, cfg: TrainConfig) -> tuple[list[str], list[str]]:
    """(training videos, validation videos) of a config; with time blocks both are the training videos."""
    from ..data import videos_in_split

    try:
        train = videos_in_split(project, cfg.train_split)
        val = train if cfg.val_blocks > 0 else [v for v in videos_in_split(project, cfg.val_split) if v not in train]
    except KeyError as e:
        raise AffectTraceError(str(e.args[0]), project.folder) from None
    return train, val


def _dataset(project: Project, cfg: TrainConfig, videos: list[str], frames: dict[str, Any] | None,
             labels: LabelSpaces, shared_crops: dict[str, Any]) -> Any:
    """uint8 crops (``raw``): the trainer augments whole batches on the training device."""
    from ..data import face_dataset

    preset = get_preset(cfg.preset)
    parts = [face_dataset(project, track, vids, cfg.tasks, augment=False, raw=True, window=preset.window,
                          audio=preset.audio, frames=frames, expressions=labels.expressions,
                          shared_crops=shared_crops)
             for track, vids in label_sources(project, cfg.label_track, videos).items()]
    return parts[0] if len(parts) == 1 else ConcatFrames(parts)


def run_labels(project: Project | None, cfg: TrainConfig, images: list[Any]) -> LabelSpaces:
    """The run's label spaces: expressions ``cfg.expr_space``, else the project's (Aff-Wild2's 7 + Other),
    else the first image dataset's; AUs the project's, else those of the image datasets (when they agree)."""
    if cfg.expr_space:
        try:
            expressions = expression_space(cfg.expr_space)
        except ValueError as e:
            raise AffectTraceError(str(e)) from None
    else:
        expressions = EXPRESSIONS if project is not None else images[0].expr_classes
    if project is not None:
        return LabelSpaces(expressions, tuple(project.au_set.aus), project.au_set.name)
    aus = images[0].au_names if all(d.au_names == images[0].au_names for d in images) else ()
    return LabelSpaces(expressions, aus)


def image_datasets(cfg: TrainConfig, images: list[Any], labels: LabelSpaces) -> tuple[list[Any], list[Any], list[str]]:
    """(training parts, validation parts, notes) of the image datasets: 'train', and 'val' (else 'test',
    where a database such as RAF-DB has no validation split)."""
    from ..data.images import ImageFrames

    preset = get_preset(cfg.preset)
    if preset.window > 1 or preset.audio:
        raise AffectTraceError(f"image datasets train single-frame presets; {preset.name} needs video windows"
                               f"{' and audio' if preset.audio else ''}")
    train, val, notes = [], [], []
    for d in images:
        part = ImageFrames(d, "train", cfg.tasks, expressions=labels.expressions, au_names=labels.aus)
        train.append(part)
        notes += part.notes + [f"{k}: {why}" for k, why in part.skipped.items()]
        split = next((s for s in ("val", "test") if s in d.splits), None)
        if split == "test":
            notes.append(f"{d.name}: no validation split, validating on its test split")
        if split is not None:
            v = ImageFrames(d, split, cfg.tasks, expressions=labels.expressions, au_names=labels.aus)
            if len(v):
                val.append(v)
    return train, val, notes


def data_tasks(project: Project | None, cfg: TrainConfig, images: list[Any], labels: LabelSpaces) -> list[str]:
    """Notes on the tasks of ``cfg`` no source has labels for; those tasks are dropped from the run."""
    if project is not None or not images:
        return []
    have = {"expr", *(["va"] if any(d.has_va for d in images) else []),
            *(["au"] if labels.aus and any(set(labels.aus) & set(d.au_names) for d in images) else [])}
    dropped = [t for t in cfg.tasks if t not in have]
    cfg.tasks = [t for t in cfg.tasks if t in have] or ["expr"]
    return [f"no {t} labels in the data: task {t} left out" for t in dropped]


def build_datasets(project: Project | None, cfg: TrainConfig, labels: LabelSpaces | None = None,
                   images: list[Any] | None = None) -> tuple[Any, Any, list[str]]:
    """(train set, validation set or None, notes): the project's (for the preset's window and audio) and
    the image datasets', concatenated so that shuffled batches mix them."""
    images = images or []
    labels = labels or run_labels(project, cfg, images)
    notes = data_tasks(project, cfg, images, labels)
    img_train, img_val, img_notes = image_datasets(cfg, images, labels) if images else ([], [], [])
    notes += img_notes
    if project is None:
        train = img_train[0] if len(img_train) == 1 else ConcatFrames(img_train)
        if len(train) == 0:
            raise AffectTraceError("no labelled image in the 'train' split of the image dataset(s)")
        val = (img_val[0] if len(img_val) == 1 else ConcatFrames(img_val)) if img_val else None
        return train, val, notes + ([] if val else ["no validation images: the training loss picks the best epoch"])
    train, val, found = _project_datasets(project, cfg, labels)
    notes = found + notes
    if labels.expressions != EXPRESSIONS:
        mapping = expression_mapping(EXPRESSIONS, labels.expressions)
        notes.append(f"project expressions (affwild2) -> the run's classes: {mapping.describe()}"
                     + (" (those frames' expressions are left unlabelled)" if mapping.unmatched_source else ""))
    if images:
        train = ConcatFrames([train, *img_train])
        val = ConcatFrames(([val] if val is not None else []) + img_val) if val is not None or img_val else None
    return train, val, notes


def _project_datasets(project: Project, cfg: TrainConfig, labels: LabelSpaces) -> tuple[Any, Any, list[str]]:
    from ..data import time_blocks

    train_videos, val_videos = run_videos(project, cfg)
    if not train_videos:
        raise AffectTraceError(f"no video in the training selection {cfg.train_split!r}", project.folder)
    if not cfg.label_track:
        cfg.label_track = default_label_track(project, train_videos)
    held_out = []
    if not val_videos and cfg.val_blocks <= 0:  # best.pt is chosen on held-out frames, never on the training loss
        cfg.val_blocks, val_videos = DEFAULT_VAL_BLOCKS, train_videos
        held_out = [f"no validation video in {cfg.val_split!r}: validating on {DEFAULT_VAL_BLOCKS:.0%} of the "
                    "training videos, held out in time blocks (--val-blocks sets the share, --val-video a video)"]
    train_frames = val_frames = None
    if cfg.val_blocks > 0:
        blocks = {v: time_blocks(project.videos[v].frame_count, float(project.videos[v].fps_fraction),
                                 cfg.val_blocks, cfg.seed) for v in train_videos}
        train_frames = {v: b[0] for v, b in blocks.items()}
        val_frames = {v: b[1] for v, b in blocks.items()}
    crops: dict[str, Any] = {}  # one copy of each video's crops for every annotator and both sides
    train = _dataset(project, cfg, train_videos, train_frames, labels, crops)
    notes = held_out + [f"{v}: {why}" for v, why in train.skipped.items()]
    if len(train) == 0:
        raise AffectTraceError(f"no labelled face frames to train on in {cfg.train_split!r} with labels "
                               f"{cfg.label_track!r} ({'; '.join(notes) or 'nothing labelled'})", project.folder)
    val = None
    if val_videos:
        val = _dataset(project, cfg, val_videos, val_frames, labels, crops)
        if cfg.val_blocks <= 0:
            notes += [f"{v}: {why}" for v, why in val.skipped.items()]
        if len(val) == 0:
            val.close()
            val = None
    if val is None:
        notes.append(f"no labelled validation frames in {cfg.val_split!r}: the training loss picks the best epoch "
                     "(--val-blocks holds out time blocks of the training videos)")
    return train, val, notes


def new_run_id(preset: str, models_dir: Path) -> str:
    base = f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_id, k = base, 1
    while (models_dir / run_id).exists():
        k += 1
        run_id = f"{base}-{k}"
    return run_id


def models_folder(project: Project | None, cfg: TrainConfig, models_dir: str | Path | None = None) -> Path:
    """Where runs go: ``models_dir``, else the project's models/, else models/ beside the first image dataset."""
    if models_dir is not None:
        return Path(models_dir)
    if project is not None:
        return Path(project.models_dir)
    if not cfg.images:
        raise AffectTraceError("nothing to train on: give a project and/or image datasets (--images)")
    return Path(cfg.images[0]).parent / "models"


def resume_dir(project: Project | None, resume: str, models_dir: str | Path | None = None) -> Path:
    """The folder of a run to continue: a folder, or a run id under the models folder."""
    if Path(resume).is_dir():
        run_dir = Path(resume)
    else:
        run_dir = models_folder(project, TrainConfig(), models_dir) / check_name(resume, "--resume run id")
    if not (run_dir / LAST).is_file():
        raise AffectTraceError("no run to resume there (no last.pt)", run_dir)
    return run_dir


def train_project(project: Project | None, cfg: TrainConfig, on_event: Callable[[TrainEvent], None] | None = None,
                  cancel: CancelToken | None = None, resume: str | None = None,
                  resume_overrides: dict[str, Any] | None = None, notes: list[str] | None = None,
                  models_dir: str | Path | None = None, replace: bool = False) -> TrainResult:
    """Train on a project, on the image datasets of ``cfg.images``, or on both (``project`` None: images
    only). Under torchrun: one rank of a DDP run.

    ``resume``: a run id or folder to continue; its saved config is used, with ``resume_overrides``
    (e.g. more ``epochs``, another ``device``) applied on top; ``cfg`` is then ignored.
    ``replace``: a new run may replace a finished one of the same id (--force); otherwise it is refused.

    The run folder is claimed before any data is read (exclusive mkdir, then a lock held while it trains),
    so two trainings given one id never share a folder; a run that ends without a checkpoint is removed."""
    from ..imagedata import ImageDataset

    main = ddp.env_info().main
    claim: RunClaim | None = None
    if resume:
        run_dir = resume_dir(project, resume, models_dir)
        cfg = TrainConfig.load(run_dir / CONFIG)
        for name, value in (resume_overrides or {}).items():
            setattr(cfg, name, value)
        if main:
            claim = hold_run(run_dir)
    else:
        models = models_folder(project, cfg, models_dir)
        info = ddp.init(resolve_device(cfg.device, ddp.env_info().local_rank))
        named = bool(cfg.run_id)
        run_id = cfg.run_id or new_run_id(cfg.preset, models)
        cfg.run_id = ddp.gather_objects(run_id, info)[0]  # every rank writes under rank 0's name
        if main:
            root = Path(project.folder) if project is not None and models_dir is None else models
            for attempt in range(10):  # a default id taken meanwhile by a run started in the same second: the next
                try:
                    claim = claim_run(models, cfg.run_id, replace, root)
                    break
                except RunExistsError:
                    if named or info.world > 1 or attempt == 9:
                        raise
                    cfg.run_id = new_run_id(cfg.preset, models)
        run_dir = models / cfg.run_id
    train = val = None
    try:
        images = [ImageDataset(p) for p in cfg.images]
        if project is None and not images:
            raise AffectTraceError("nothing to train on: give a project and/or image datasets (--images)")
        labels = run_labels(project, cfg, images) if images or project is None else project_labels(project)
        train, val, found = build_datasets(project, cfg, labels, images)
        if notes is not None:
            notes.extend(found)
        return Trainer(cfg, train, val, labels, run_dir, cancel, on_event, resume=bool(resume)).fit()
    finally:
        if claim is not None:
            claim.abandon(LAST)
        for ds in (train, val):
            if ds is not None:
                ds.close()
