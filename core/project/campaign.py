"""The campaign: who labels which video for which task, and how far each annotator has come.

    folder/assignments.json   {"format": ..., "assignments": {annotator: {video: [task, ...]}}}

Assignments are a project-wide file, changed only under the short project lease (``assign``).
``status`` reads the indexes (coverage as of each lane's last save), the lanes' activity.json (time
spent) and the human tracks' VA and EXPR arrays (agreement so far), pack by pack.
"""
from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ProjectError
from ..fsio import atomic_write_bytes, real_folder
from ..labels import EXPRESSIONS, TASKS
from ..safepaths import check_name
from ..tracks import TrackKind
from . import storage
from .lanefiles import ACTIVITY_NAME, lane_names, lane_root, read_json
from .opening import project_id
from .spool import project_key

if TYPE_CHECKING:
    from .project import Project

ASSIGNMENTS_NAME = "assignments.json"
ASSIGNMENTS_FORMAT = "affecttrace-assignments"
DONE_COVERAGE = 0.95  # a task counts as done on a video once this share of its frames is labelled
TASK_WORDS = {"va": "va", "valence-arousal": "va", "expr": "expr", "expression": "expr", "au": "au"}

Assignments = dict[str, dict[str, list[str]]]  # annotator -> video -> tasks


def parse_tasks(text: str) -> list[str]:
    """'VA,EXPR' -> ['va', 'expr'] (any case, in TASKS order); ValueError naming an unknown task."""
    out = set()
    for word in (w.strip().lower() for w in text.split(",") if w.strip()):
        if word not in TASK_WORDS:
            raise ValueError(f"unknown task {word!r}; expected VA, EXPR or AU")
        out.add(TASK_WORDS[word])
    if not out:
        raise ValueError("no task given; expected VA, EXPR or AU")
    return [t for t in TASKS if t in out]


def read_assignments(folder: Path) -> Assignments:
    d = read_json(folder / ASSIGNMENTS_NAME) or {}
    raw = d.get("assignments", {})
    out: Assignments = {}
    if not isinstance(raw, dict):
        return out
    for ann, videos in raw.items():
        if isinstance(videos, dict):
            out[str(ann)] = {str(v): [t for t in TASKS if t in tasks] for v, tasks in videos.items()
                             if isinstance(tasks, list)}
    return out


def assign(project: Project, annotators: list[str], videos: list[str], tasks: list[str],
           remove: bool = False) -> Assignments:
    """Assign (or with ``remove`` take back) ``tasks`` of ``videos`` to ``annotators``; written at once under
    the project lease (``project`` writes the project's store: opened with ``Project.open_writable``)."""
    if project.lane is not None or project.readonly:
        raise ProjectError("assignments are changed by the project's lead, under the project lease", project.folder)
    for v in videos:
        project._video(v)
    current = read_assignments(project.folder)
    for ann in annotators:
        check_name(ann, "annotator name", project.folder, ProjectError)
        if not remove and ann not in project.annotators:
            project.add_annotator(ann)
        mine = current.setdefault(ann, {})
        for v in videos:
            have = set(mine.get(v, []))
            have = have - set(tasks) if remove else have | set(tasks)
            if have:
                mine[v] = [t for t in TASKS if t in have]
            else:
                mine.pop(v, None)
        if not mine:
            current.pop(ann, None)
    d = {"format": ASSIGNMENTS_FORMAT, "version": 1, "updated": time.time(), "assignments": current}
    atomic_write_bytes(project.folder / ASSIGNMENTS_NAME, (json.dumps(d, indent=1) + "\n").encode())
    return current


@dataclass
class QueueItem:
    video: str
    tasks: list[str]
    coverage: dict[str, float]  # per assigned task, of this annotator's track
    done: bool


def coverage_of(project: Project, video: str, annotator: str) -> dict[str, float]:
    """Share of frames labelled per task by ``annotator`` on ``video`` (their track named after them)."""
    n = max(project.videos[video].frame_count, 1)
    if not project.has_track(video, annotator):
        return {t: 0.0 for t in TASKS}
    if project.loaded(video, annotator):
        t = project.track(video, annotator)
        return {task: float(t.labelled(task).sum()) / n for task in TASKS}
    e = project.track_entry(video, annotator)
    return {task: e.labelled.get(task, 0) / n for task in TASKS}


def queue(project: Project, annotator: str) -> list[QueueItem]:
    """The annotator's assigned videos in assignment order, with coverage and whether each is done."""
    out = []
    for video, tasks in read_assignments(project.folder).get(annotator, {}).items():
        if video not in project.videos:
            continue
        cov = coverage_of(project, video, annotator)
        mine = {t: cov[t] for t in tasks}
        out.append(QueueItem(video, list(tasks), mine, all(c >= DONE_COVERAGE for c in mine.values())))
    return out


def next_assigned(project: Project, annotator: str, after: str | None = None) -> str | None:
    """The next assigned video not done yet (after ``after`` in queue order, wrapping round); None: all done."""
    items = queue(project, annotator)
    names = [q.video for q in items]
    start = names.index(after) + 1 if after in names else 0
    for q in items[start:] + items[:start]:
        if not q.done and q.video != after:
            return q.video
    return None


@dataclass
class StatusRow:
    annotator: str
    video: str
    assigned: list[str]
    coverage: dict[str, float]
    seconds: float
    edits: int
    agreement: dict[str, float | None] = field(default_factory=dict)  # va_ccc, expr_kappa vs the others


def _activity(folder: Path, annotator: str) -> dict[str, dict[str, float]]:
    d = read_json(lane_root(folder, annotator) / ACTIVITY_NAME) or {}
    v = d.get("videos", {})
    return v if isinstance(v, dict) else {}


def _human_arrays(project: Project, video_names: list[str]) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """video -> annotator -> (va, expr) of human tracks, read one pack file at a time."""
    by_file: dict[Path, list[tuple[str, str, str]]] = {}
    out: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for v in video_names:
        for n in project.track_names(v):
            e = project.track_entry(v, n)
            if e.source.kind != TrackKind.HUMAN:
                continue
            ann = e.source.annotator or n
            if project.loaded(v, n) or e.file is None:
                t = project.track(v, n)
                out.setdefault(v, {})[ann] = (t.va, t.expr)
                continue
            by_file.setdefault(project.track_path(v, n), []).append((e.group, v, ann))
    for path, items in by_file.items():
        for (_, v, ann), arrays in zip(items, storage.read_arrays(path, [g for g, _, _ in items], ("va", "expr"))):
            out.setdefault(v, {})[ann] = (arrays["va"], arrays["expr"])
    return out


Pair = tuple[np.ndarray, np.ndarray]  # (va, expr) of one human track


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two EXPR label arrays over the frames both labelled (core.agreement.stats.cohen_kappa
    for the 8 classes, by one bincount: the status table computes thousands)."""
    keep = (a >= 0) & (b >= 0)
    if not keep.any():
        return float("nan")
    k = len(EXPRESSIONS)
    cm = np.bincount(a[keep].astype(np.int64) * k + b[keep], minlength=k * k).reshape(k, k) / keep.sum()
    po, pe = float(np.trace(cm)), float(cm.sum(axis=1) @ cm.sum(axis=0))
    return (po - pe) / (1 - pe) if pe < 1 else float("nan")


def _agreement(mine: Pair, others: list[Pair]) -> dict[str, float | None]:
    """VA: CCC of each dimension with the mean of the others, averaged; EXPR: mean Cohen's kappa with each."""
    from ..metrics.continuous import ccc

    if not others:
        return {"va_ccc": None, "expr_kappa": None}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames nobody else labelled: NaN, left out
        stack = np.stack([o[0] for o in others])
        mean = stack[0] if len(others) == 1 else np.nanmean(stack, axis=0)
        c = [ccc(mine[0][:, d], mean[:, d]) for d in (0, 1)]
        k = [_kappa(mine[1], o[1]) for o in others]
    va = float(np.nanmean(c)) if np.isfinite(c).any() else None
    kk = [x for x in k if np.isfinite(x)]
    return {"va_ccc": va, "expr_kappa": float(np.mean(kk)) if kk else None}


def _signature(project: Project, video: str) -> list[list[str]] | None:
    """What a video's agreement depends on: each human track's pack and group (None: a track has unsaved edits)."""
    out = []
    for n in project.track_names(video):
        e = project.track_entry(video, n)
        if e.source.kind != TrackKind.HUMAN:
            continue
        if e.file is None or (project.owner_of(video, n) is None and project.is_dirty(video, n)):
            return None
        # the pack relative to the project: the same on every workstation, whatever its mount point
        out.append([e.source.annotator or n, os.path.relpath(project.track_path(video, n), project.folder), e.group])
    return sorted(out)


def status_cache_path(project: Project) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "affecttrace" / "status" / f"{project_key(project.folder, project_id(project.manifest))}.json"


def shared_cache_path(project: Project) -> Path:
    return project.folder / "cache" / "status" / "agreement.json"


def _cached(hit: object, sig: list[list[str]] | None) -> dict[str, dict[str, float | None]] | None:
    """A cache entry's agreement when it was computed from exactly these packs and groups (packs are
    immutable and never renamed to another's name, so the same signature means the same labels)."""
    if sig is None or not isinstance(hit, dict) or hit.get("sig") != sig:
        return None
    agreement = hit.get("agreement")
    if not isinstance(agreement, dict) or not all(
            isinstance(a, dict) and all(isinstance(x, (int, float)) or x is None for x in a.values())
            for a in agreement.values()):
        return None
    return agreement


def video_agreements(project: Project, videos: list[str]) -> dict[str, dict[str, dict[str, float | None]]]:
    """video -> annotator -> agreement with the others so far. Videos whose human tracks did not change since
    they were last computed come from a cache: this workstation's (~/.cache/affecttrace/status/) or the one
    in the shared project (cache/status/agreement.json), which whoever computes first leaves for the
    others (replaced atomically; an entry counts only while its packs are still the tracks' packs)."""
    paths = (status_cache_path(project), shared_cache_path(project))
    caches = [c if isinstance(c := read_json(p), dict) else {} for p in paths]
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    stale, sigs = [], {}
    for v in videos:
        sigs[v] = _signature(project, v)
        hit = next((e for c in caches if (e := _cached(c.get(v), sigs[v])) is not None), None)
        if hit is not None:
            out[v] = hit
        else:
            stale.append(v)
    fresh = {v: {"sig": sigs[v], "agreement": out[v]} for v in videos if sigs[v] is not None and v in out}
    if stale:
        arrays = _human_arrays(project, stale)
        for v in stale:
            got = arrays.get(v, {})
            out[v] = {ann: _agreement(x, [y for a, y in got.items() if a != ann]) for ann, x in got.items()}
        fresh = {v: {"sig": sigs[v], "agreement": out[v]} for v in videos if sigs[v] is not None}
    data = json.dumps(fresh, separators=(",", ":")).encode()
    for path, cache, root in zip(paths, caches, (None, project.folder)):
        if stale or set(cache) != set(fresh):
            try:  # in the project: never through a linked folder
                real_folder(path.parent, root, ProjectError) if root else path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(path, data)
            except (OSError, ProjectError):
                pass  # a cache only (a read-only share, a full disk): the next status computes again
    return out


def status(project: Project, agreement: bool = True) -> dict[str, Any]:
    """Per annotator x video (assigned, or labelled without assignment): coverage per task, time spent,
    edits, agreement with the other annotators so far; with per-annotator totals."""
    assignments = read_assignments(project.folder)
    annotators = list(dict.fromkeys(list(project.annotators) + lane_names(project.folder) + list(assignments)))
    pairs: dict[tuple[str, str], list[str]] = {}
    for ann in annotators:
        for v, tasks in assignments.get(ann, {}).items():
            if v in project.videos:
                pairs[(ann, v)] = tasks
    for v in project.videos:
        for n in project.track_names(v):
            e = project.track_entry(v, n)
            if e.source.kind == TrackKind.HUMAN and (e.source.annotator or n) == n:
                pairs.setdefault((n, v), [])
    videos = sorted({v for _, v in pairs}, key=list(project.videos).index)
    agreements = video_agreements(project, videos) if agreement else {}
    activity = {a: _activity(project.folder, a) for a in annotators}
    rows = []
    for (ann, v), tasks in sorted(pairs.items(), key=lambda kv: (annotators.index(kv[0][0]) if kv[0][0] in
                                                                  annotators else len(annotators), kv[0][1])):
        act = activity.get(ann, {}).get(v, {})
        agree = agreements.get(v, {}).get(ann, {})
        rows.append(StatusRow(ann, v, tasks, coverage_of(project, v, ann), float(act.get("seconds", 0.0)),
                              int(act.get("edits", 0)), agree))
    totals = {}
    for ann in annotators:
        mine = [r for r in rows if r.annotator == ann]
        assigned = [r for r in mine if r.assigned]
        done = sum(all(r.coverage[t] >= DONE_COVERAGE for t in r.assigned) for r in assigned)
        ccc_vals = [float(c) for r in mine if (c := r.agreement.get("va_ccc")) is not None]
        totals[ann] = {"assigned_videos": len(assigned), "done_videos": done,
                       "seconds": sum(r.seconds for r in mine), "edits": sum(r.edits for r in mine),
                       "va_ccc_mean": float(np.mean(ccc_vals)) if ccc_vals else None}
    return {"project": str(project.folder), "done_coverage": DONE_COVERAGE, "annotators": totals,
            "rows": [dict(vars(r)) for r in rows]}  # not asdict: its deep copies cost ~0.5 s at Aff-Wild2 scale


CSV_COLUMNS = ("annotator", "video", "assigned", "coverage_va", "coverage_expr", "coverage_au", "seconds", "edits",
               "va_ccc", "expr_kappa")


def status_csv_rows(st: dict[str, Any]) -> list[list[str]]:
    def num(x: float | None) -> str:
        return "" if x is None else f"{x:.4f}"

    out = [list(CSV_COLUMNS)]
    for r in st["rows"]:
        out.append([r["annotator"], r["video"], "+".join(r["assigned"]), num(r["coverage"]["va"]),
                    num(r["coverage"]["expr"]), num(r["coverage"]["au"]), f"{r['seconds']:.0f}", str(r["edits"]),
                    num(r["agreement"].get("va_ccc")), num(r["agreement"].get("expr_kappa"))])
    return out

