"""Training configuration: one dataclass, saved as ``config.toml`` beside each run."""
from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from ..errors import AffectTraceError
from ..fsio import atomic_write_bytes, read_text
from ..labels import TASKS
from ..safepaths import name_problem
from ..words import AMP_CHOICES

EACH_ANNOTATOR = "@each"  # label_track: every annotator's labels as samples of their own


@dataclass
class TrainConfig:
    preset: str = "mt-tiny"
    tasks: list[str] = field(default_factory=lambda: list(TASKS))
    label_track: str = ""  # '' = the fused track when there is one, else the single human track; or EACH_ANNOTATOR
    train_split: str | list[str] = "train"  # a split name or a list of videos
    val_split: str | list[str] = "val"
    val_blocks: float = 0.0  # > 0: validate on this share of the training videos, held out in time blocks
    epochs: int = 10
    batch_size: int = 32  # 0 = chosen for the preset and device (core.nn.feed.auto_batch_size)
    max_steps_per_epoch: int = 0  # 0 = the whole training set each epoch
    optimizer: str = "adamw"  # adamw | sgd
    lr: float = 1e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9  # sgd only
    schedule: str = "cosine"  # cosine | step | constant
    warmup_steps: int = 0
    step_epochs: int = 5  # step schedule: multiply by gamma every step_epochs
    gamma: float = 0.1
    grad_clip: float = 5.0  # max gradient norm; 0 = off
    amp: str = "auto"  # auto (bf16 on CUDA, none on CPU) | bf16 | fp16 | none
    channels_last: bool = True  # CUDA only
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    seed: int = 0
    task_weights: dict[str, float] = field(default_factory=lambda: {t: 1.0 for t in TASKS})
    label_smoothing: float = 0.0
    au_balance: bool = True  # weight positive AU labels by sqrt(negatives / positives) of the training set
    arc_s: float = 64.0
    arc_m: float = 0.5
    pretrained: str = ""  # local weights file for the backbone
    finetune: str = ""  # a checkpoint to start from: backbone kept, heads remapped or re-initialised
    images: list[str] = field(default_factory=list)  # image dataset caches (core.imagedata) to train on
    expr_space: str = ""  # the run's expression classes ('' = the project's, else the first image dataset's)
    compile: bool = False  # torch.compile the network for training
    augment: bool = True
    num_workers: int = -1  # -1: automatic (worker processes on CUDA, none on the CPU)
    early_stopping: int = 0  # stop after this many epochs without a better validation score; 0 = off
    abaw: int = 2022
    au_threshold: float = 0.5
    run_id: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.tasks, str):
            self.tasks = [t.strip() for t in self.tasks.split(",") if t.strip()]
        bad = [t for t in self.tasks if t not in TASKS]
        if bad or not self.tasks:
            raise AffectTraceError(f"tasks must be a non-empty subset of {','.join(TASKS)}, got {self.tasks}")
        checks = {"optimizer": ("adamw", "sgd"), "schedule": ("cosine", "step", "constant"),
                  "amp": AMP_CHOICES}
        for name, allowed in checks.items():
            if getattr(self, name) not in allowed:
                raise AffectTraceError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not 0 <= self.val_blocks < 1:
            raise AffectTraceError(f"val_blocks is the held-out share of the training videos (0 to <1), "
                                   f"got {self.val_blocks}")
        if self.epochs < 1 or self.batch_size < 0:
            raise AffectTraceError("epochs must be at least 1 and the batch size at least 1 (0: automatic)")
        self._check_numbers()

    def _check_numbers(self) -> None:
        """The rules of the command-line options (core.cli.options) for values from a config.toml."""
        for name in ("lr", "weight_decay", "grad_clip", "arc_s", "arc_m", "momentum", "gamma", "label_smoothing",
                     "au_threshold"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise AffectTraceError(f"{name} must be a finite number of 0 or more, got {v!r}")
        for name in ("seed", "warmup_steps", "max_steps_per_epoch", "early_stopping", "step_epochs"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**32:
                raise AffectTraceError(f"{name} must be a whole number from 0 to 2^32-1, got {v!r}")
        tw = self.task_weights
        if not isinstance(tw, dict) or any(k not in TASKS or isinstance(w, bool) or not isinstance(w, (int, float))
                                           or not math.isfinite(w) or w < 0 for k, w in tw.items()):
            raise AffectTraceError(f"task_weights must map tasks among {','.join(TASKS)} to finite weights of 0 "
                                   f"or more, got {tw!r}")
        if self.run_id and name_problem(self.run_id) is not None:
            raise AffectTraceError(f"run_id {name_problem(self.run_id)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise AffectTraceError(f"unknown training settings: {', '.join(unknown)}")
        return cls(**d)

    def save(self, path: str | Path) -> None:
        atomic_write_bytes(Path(path), tomli_w.dumps(self.to_dict()).encode(), error=AffectTraceError)

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        path = Path(path)
        try:
            d = tomllib.loads(read_text(path, limit=1 << 20))  # a FIFO or a huge file is refused
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise AffectTraceError(f"cannot read training config: {str(e)[:200]}", path) from None
        try:
            return cls.from_dict(d)
        except AffectTraceError as e:  # the settings' own checks: say which file holds them
            raise AffectTraceError(e.problem, path) from None
        except (TypeError, ValueError) as e:
            raise AffectTraceError(f"a setting has the wrong type ({str(e)[:160]})", path) from None
