"""Training runs of a project as data: the runs under ``models/`` with their recipe and scores, and the
curves of one run folded from its event stream (live from a job, or from its saved events.jsonl).

Plain Python (no torch, no Qt): the app's dashboard draws these; scripts can read them too.
"""
from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .jobevents import read_log

EVENTS_LOG = "events.jsonl"
TASK_LOSSES = ("total", "va", "expr", "au")
# the validation figures drawn per epoch, in the dashboard's order
EPOCH_CURVES = ("val_ccc_valence", "val_ccc_arousal", "val_expr_f1", "val_au_f1", "val_score")


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) else math.nan


@dataclass
class RunCurves:
    """Everything a dashboard shows of one run, updated event by event with ``add``."""

    run_id: str = ""
    run_dir: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    device: str = ""
    status: str = "running"
    steps: list[int] = field(default_factory=list)
    losses: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in TASK_LOSSES})
    epochs: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None
    best_details: dict[str, Any] = field(default_factory=dict)
    last_step: dict[str, Any] = field(default_factory=dict)  # the latest step event: rate, ETA, memory
    epoch_of: int = 0  # epoch in progress
    epochs_total: int = 0
    resumes: list[int] = field(default_factory=list)  # steps at which a resumed run went on
    messages: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""

    def add(self, ev: dict[str, Any]) -> None:
        kind = ev.get("event")
        if kind == "run":
            if self.run_id:
                self.resumes.append(self.steps[-1] if self.steps else 0)
            self.run_id = str(ev.get("run_id", ""))
            self.run_dir = str(ev.get("run_dir", ""))
            self.config = dict(ev.get("config") or {})
            self.device = str(ev.get("device", ""))
            self.epochs_total = int(ev.get("epochs") or 0)
            self.status = "running"
        elif kind == "step":
            self.steps.append(int(ev.get("step", 0)))
            got = ev.get("losses") or {}
            for k in self.losses:
                self.losses[k].append(_num(got.get(k)))
            self.last_step = ev
            self.epoch_of = int(ev.get("epoch", 0))
            self.epochs_total = int(ev.get("epochs") or self.epochs_total)
            self.device = str(ev.get("device") or self.device)
        elif kind == "epoch":
            self._epoch(ev)
        elif kind == "message":
            self.messages.append((str(ev.get("level", "info")), str(ev.get("text", ""))))
        elif kind == "error":
            self.error = str(ev.get("text", ""))
        elif kind == "end":
            self.status = str(ev.get("status", "finished"))

    def _epoch(self, ev: dict[str, Any]) -> None:
        epoch = int(ev.get("epoch", 0))
        if epoch in self.epochs:  # a resumed run repeats the epoch it was stopped in
            i = self.epochs.index(epoch)
            del self.epochs[i:]
            for v in self.metrics.values():
                del v[i:]
        self.epochs.append(epoch)
        got = ev.get("metrics") or {}
        names = list(dict.fromkeys([*self.metrics, *got]))
        for k in names:
            self.metrics.setdefault(k, [math.nan] * (len(self.epochs) - 1)).append(_num(got.get(k)))
        if ev.get("best"):
            self.best_epoch = epoch
            self.best_details = dict(ev.get("details") or {})
        self.epoch_of = epoch

    @property
    def progress(self) -> tuple[int, int]:
        """(steps done, total steps) as of the latest step event."""
        return int(self.last_step.get("step", 0)), int(self.last_step.get("total_steps", 0))

    def recipe(self) -> str:
        return recipe_text(self.config)

    @classmethod
    def from_events(cls, events: list[dict[str, Any]]) -> "RunCurves":
        curves = cls()
        for ev in events:
            curves.add(ev)
        return curves

    @classmethod
    def from_log(cls, run_dir: str | Path) -> "RunCurves":
        """A finished (or interrupted) run's dashboard data from its events.jsonl; a log that ends without
        an 'end' event (the app was killed) reads as 'stopped'."""
        curves = cls.from_events(read_log(Path(run_dir) / EVENTS_LOG))
        if curves.status == "running":
            curves.status = "stopped"
        if not curves.run_dir:
            curves.run_dir, curves.run_id = str(run_dir), Path(run_dir).name
        return curves


def recipe_text(config: dict[str, Any]) -> str:
    """One line: preset, tasks, labels, epochs x batch, validation, start weights."""
    if not config:
        return ""
    val = (f"val {config['val_blocks']:.0%} blocks" if config.get("val_blocks")
           else f"val {_videos(config.get('val_split'))}")
    parts = [str(config.get("preset", "?")), "+".join(config.get("tasks", [])),
             f"labels {config.get('label_track') or 'default'}", f"train {_videos(config.get('train_split'))}", val,
             f"{config.get('epochs', '?')} ep x {config.get('batch_size', '?')}", f"lr {config.get('lr', '?')}",
             f"seed {config.get('seed', 0)}"]
    for key, verb in (("finetune", "fine-tuned from"), ("pretrained", "backbone from")):
        if config.get(key):
            path = Path(str(config[key]))
            parts.append(f"{verb} {path.parent.name if path.name in ('best.pt', 'last.pt') else path.name}")
    return ", ".join(parts)


def _videos(split: Any) -> str:
    if isinstance(split, list):
        return ",".join(split) if len(split) <= 3 else f"{len(split)} videos"
    return str(split or "-")


@dataclass
class RunInfo:
    """One run folder of a project, as listed: recipe, status, best scores."""

    run_id: str
    path: Path
    config: dict[str, Any]
    summary: dict[str, Any]
    has_log: bool
    mtime: float

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "running or stopped" if self.has_log else "unknown"))

    @property
    def best(self) -> dict[str, float]:
        return dict(self.summary.get("best_metrics") or {})


def list_runs(project_folder: str | Path) -> list[RunInfo]:
    """Runs under PROJECT/models (folders with a config.toml), newest first; unreadable files are skipped
    (a run being written reads as 'running or stopped')."""
    models = Path(project_folder) / "models"
    out: list[RunInfo] = []
    if not models.is_dir():
        return out
    for d in models.iterdir():
        cfg_path = d / "config.toml"
        if not d.is_dir() or not cfg_path.is_file():
            continue
        try:
            config = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        try:
            summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = {}
        log = d / EVENTS_LOG
        mtime = max(p.stat().st_mtime for p in (cfg_path, log) if p.exists())
        out.append(RunInfo(d.name, d, config, summary if isinstance(summary, dict) else {}, log.is_file(), mtime))
    out.sort(key=lambda r: r.mtime, reverse=True)
    return out
