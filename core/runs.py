"""Training runs of a project as data: the runs under ``models/`` with their recipe and scores, and the
curves of one run folded from its event stream (live from a job, or from its saved events.jsonl).

Plain Python (no torch, no Qt): the app's dashboard draws these; scripts can read them too.
"""
from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AffectTraceError
from .fsio import open_regular, os_problem, read_text, real_folder
from .jobevents import read_log
from .safepaths import check_name

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
        """The curves of ``events``; an event whose fields have the wrong types is skipped and counted
        (a damaged log shows what it can)."""
        curves, bad = cls(), 0
        for ev in events:
            try:
                curves.add(ev)
            except (TypeError, ValueError, AttributeError, OverflowError):
                bad += 1
        if bad:
            curves.messages.append(("warning", f"{bad} event(s) of the log have fields of the wrong type: skipped"))
        return curves

    @classmethod
    def from_log(cls, run_dir: str | Path) -> "RunCurves":
        """A finished (or interrupted) run's dashboard data from its events.jsonl; a log that ends without
        an 'end' event (the app was killed) reads as 'stopped'; one that cannot be read (missing, a FIFO)
        gives empty curves whose ``error`` says why."""
        try:
            curves = cls.from_events(read_log(Path(run_dir) / EVENTS_LOG))
        except AffectTraceError as e:
            curves = cls(error=str(e))
        if curves.status == "running":
            curves.status = "stopped"
        if not curves.run_dir:
            curves.run_dir, curves.run_id = str(run_dir), Path(run_dir).name
        return curves


def recipe_text(config: dict[str, Any]) -> str:
    """One line: preset, tasks, labels, epochs x batch, validation, start weights (values of the wrong
    type, from a damaged config.toml, are shown as they are)."""
    if not config:
        return ""
    blocks = config.get("val_blocks")
    val = (f"val {blocks:.0%} blocks" if isinstance(blocks, (int, float)) and blocks
           else f"val {_videos(config.get('val_split'))}")
    tasks = config.get("tasks")
    parts = [str(config.get("preset", "?")), "+".join(map(str, tasks)) if isinstance(tasks, list) else str(tasks),
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
        return ",".join(map(str, split)) if len(split) <= 3 else f"{len(split)} videos"
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


MAX_RUN_FILE = 16 << 20  # config.toml and summary.json are a few KB: a bigger one is not read


def list_runs(project_folder: str | Path) -> list[RunInfo]:
    """Runs under PROJECT/models (folders with a config.toml), newest first; unreadable files are skipped
    (a run being written reads as 'running or stopped'), a FIFO is never waited on, and values of the
    wrong type in summary.json are left out."""
    models = Path(project_folder) / "models"
    out: list[RunInfo] = []
    if not models.is_dir():
        return out
    for d in models.iterdir():
        cfg_path = d / "config.toml"
        if not d.is_dir() or not cfg_path.is_file():
            continue
        try:
            config = tomllib.loads(read_text(cfg_path, limit=MAX_RUN_FILE))
        except (AffectTraceError, ValueError):
            continue
        try:
            summary = json.loads(read_text(d / "summary.json", limit=MAX_RUN_FILE))
        except (AffectTraceError, ValueError, RecursionError):
            summary = {}
        log = d / EVENTS_LOG
        try:
            mtime = max(p.stat().st_mtime for p in (cfg_path, log) if p.exists())
        except OSError:
            continue
        out.append(RunInfo(d.name, d, config, clean_summary(summary), log.is_file(), mtime))
    out.sort(key=lambda r: r.mtime, reverse=True)
    return out


def clean_summary(summary: Any) -> dict[str, Any]:
    """A run's summary.json with the fields the runs list shows checked: status text, best epoch an
    integer, best metrics numbers (anything else is dropped: a damaged file shows as far as it can)."""
    if not isinstance(summary, dict):
        return {}
    out = dict(summary)
    if not isinstance(out.get("status", ""), str):
        out.pop("status")
    epoch = out.get("best_epoch")
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int)):
        out.pop("best_epoch")
    best = out.get("best_metrics")
    if best is not None:
        out["best_metrics"] = ({str(k): float(v) for k, v in best.items()
                                if isinstance(v, (int, float)) and not isinstance(v, bool)}
                               if isinstance(best, dict) else {})
    return out


RUN_LOCK = ".lock"  # flock'd by the process training the run: a second training of one id is refused


class RunExistsError(AffectTraceError):
    """A run folder of that id exists (and --force was not given, or another training claimed it first)."""


class RunClaim:
    """A run folder this process owns: made exclusively (``os.mkdir``), flock'd while it trains.

    ``claim_run(models, run_id)``: a new run; an existing folder of that id is refused, or with
    ``replace`` moved aside and deleted (never while another process trains it). ``hold_run(run_dir)``:
    an existing run continued (--resume). ``release()`` drops the lock; ``abandon()`` also removes a folder
    this claim made that holds no checkpoint (a run that never saved one is no run)."""

    def __init__(self, run_dir: Path, fd: int | None, made: bool) -> None:
        self.run_dir = run_dir
        self.fd: int | None = fd
        self.made = made

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None

    def abandon(self, keep_if: str = "last.pt") -> None:
        self.release()
        if self.made and not (self.run_dir / keep_if).exists():
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _lock_run(run_dir: Path, made: bool) -> RunClaim:
    fd = open_regular(run_dir / RUN_LOCK, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise AffectTraceError("another process is training this run now", run_dir) from None
        if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise AffectTraceError(f"cannot lock the run: {os_problem(e)}", run_dir) from None
        return RunClaim(run_dir, None, made)  # no working locks here: the exclusive mkdir alone guards new runs
    return RunClaim(run_dir, fd, made)


def claim_run(models: Path, run_id: str, replace: bool = False, root: Path | None = None) -> RunClaim:
    """Make ``models/run_id`` for a new run (``run_id`` checked as a name; ``models`` a real folder under
    ``root``). An existing run is replaced only with ``replace``, and never while it is trained."""
    check_name(run_id, "run id")
    real_folder(models, root if root is not None else models)
    run_dir = models / run_id
    try:
        os.mkdir(run_dir)
    except FileExistsError:
        if not replace:
            done = "a finished run" if (run_dir / "summary.json").exists() else "a run"
            raise RunExistsError(f"{done} of this id exists: choose another --run-id, --resume it, or give "
                                 "--force to replace it", run_dir) from None
        if os.path.islink(run_dir) or not run_dir.is_dir():
            raise AffectTraceError("is not a run folder: not replaced", run_dir) from None
        old = _lock_run(run_dir, False)  # refused while another process trains it
        aside = models / f".{run_id}.replaced-{os.getpid()}"
        try:
            os.rename(run_dir, aside)
        finally:
            old.release()
        shutil.rmtree(aside, ignore_errors=True)
        try:
            os.mkdir(run_dir)
        except FileExistsError:
            raise RunExistsError("another training claimed this run id just now", run_dir) from None
    except OSError as e:
        raise AffectTraceError(f"cannot make the run folder: {os_problem(e)}", run_dir) from None
    return _lock_run(run_dir, True)


def hold_run(run_dir: Path) -> RunClaim:
    """Lock an existing run to continue it (refused while another process trains it)."""
    if os.path.islink(run_dir):
        raise AffectTraceError("is a symbolic link: a run folder must be a real folder", run_dir)
    return _lock_run(run_dir, False)
