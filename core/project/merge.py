"""`affecttrace project merge OTHER_COPY`: bring back annotator lanes labelled in a copy of the project.

Per annotator, per track and task, a frame counts as changed in the copy when its edit stamp is one this
project's lane has not seen, and changed here when its stamp is one the copy has not seen
(core.project.stamps). Frames changed on one side only come across; frames changed on both sides to
different values are conflicts: listed, and the merge refuses unless ``prefer`` says who wins. What
comes across is pushed as ordinary edits of the annotator's lane: journaled and undoable.
Tracks the copy holds only in its project store (made before lanes) carry no stamps: there a frame
labelled in the copy and unlabelled here comes across, one labelled differently on both is a conflict.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..edits import Edit
from ..errors import ProjectError, ProjectLockedError
from ..labels import TASKS
from ..tracks import Track, TrackKind, TrackSource
from .lanefiles import lane_names

Ranges = list[tuple[int, int]]  # [start, stop) runs of frames


def runs(mask: np.ndarray) -> Ranges:
    """Contiguous [start, stop) runs of True in a 1-D mask."""
    if not mask.any():
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


@dataclass
class TrackPlan:
    annotator: str
    video: str
    track: str
    take: dict[str, Ranges] = field(default_factory=dict)  # task -> frames to bring across
    conflicts: dict[str, Ranges] = field(default_factory=dict)  # task -> frames changed on both sides
    new: bool = False  # the track exists only in the copy


@dataclass
class MergeReport:
    other: str
    prefer: str | None
    plans: list[TrackPlan]
    merged: int = 0  # frames brought across (per task)
    edits: int = 0

    @property
    def conflicts(self) -> list[TrackPlan]:
        return [p for p in self.plans if p.conflicts]

    def to_dict(self) -> dict[str, Any]:
        return {"other": self.other, "prefer": self.prefer, "merged_frames": self.merged, "edits": self.edits,
                "refused": bool(self.conflicts) and self.prefer is None,
                "tracks": [{"annotator": p.annotator, "video": p.video, "track": p.track, "new": p.new,
                            "take": {t: [list(r) for r in rr] for t, rr in p.take.items()},
                            "conflicts": {t: [list(r) for r in rr] for t, rr in p.conflicts.items()}}
                           for p in self.plans]}

    def lines(self) -> list[str]:
        out = []
        by_ann: dict[str, list[TrackPlan]] = {}
        for p in self.conflicts:
            by_ann.setdefault(p.annotator, []).append(p)
        for ann, plans in by_ann.items():
            n = sum(b - a for p in plans for rr in p.conflicts.values() for a, b in rr)
            out.append(f"{ann}: {n} frame(s) edited both here and in {self.other}:")
            for p in plans:
                for task, rr in p.conflicts.items():
                    shown = ", ".join(f"{a}-{b - 1}" if b - a > 1 else str(a) for a, b in rr[:8])
                    more = f" (+{len(rr) - 8} more runs)" if len(rr) > 8 else ""
                    out.append(f"  {p.video}/{p.track} {task.upper()}: frames {shown}{more}")
        if self.conflicts and self.prefer is None:
            out.append("nothing merged: choose with --prefer theirs (the copy wins) or --prefer ours (this project "
                       "wins) on those frames")
        else:
            tracks = sum(1 for p in self.plans if p.take)
            out.append(f"merged {self.merged} frame(s) of {tracks} track(s) from {self.other} as {self.edits} "
                       "undoable edit(s)" + (f"; conflicts resolved: {self.prefer} win" if self.conflicts else ""))
        return out


def _differs(task: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per frame: do the two arrays of a task hold different labels (NaN equals NaN)?"""
    if task == "va":
        same = (a == b) | (np.isnan(a) & np.isnan(b))
    else:
        same = a == b
    return ~same.reshape(len(a), -1).all(axis=1)


def _unseen(stamps: np.ndarray, owner: Any, seer: Any) -> np.ndarray:
    """Per frame: was it last edited by a session ``seer`` has not seen? (stamps decoded by ``owner``)."""
    out = np.zeros(len(stamps), bool)
    for code in np.unique(stamps):
        sr = owner.decode(int(code))
        if sr is not None and not seer.has_seen(*sr):
            out |= stamps == code
    return out


def plan_track(ann: str, ours: Any, theirs: Any, video: str, name: str, prefer: str | None) -> TrackPlan:
    t: Track = theirs.track(video, name)
    plan = TrackPlan(ann, video, name, new=not ours.has_track(video, name))
    o: Track | None = None if plan.new else ours.track(video, name)
    stamped = theirs.owner_of(video, name) is None and (o is None or ours.owner_of(video, name) is None)
    for task in TASKS:
        tv = t.array(task)
        if o is None:
            take = t.labelled(task) if task != "au" else (tv != -1).any(axis=1)
            plan.take[task] = runs(take)
            continue
        differ = _differs(task, tv, o.array(task))
        if stamped:
            theirs_changed = _unseen(theirs.stamps(video, name)[task], theirs, ours) & differ
            ours_changed = _unseen(ours.stamps(video, name)[task], ours, theirs) & differ
        else:  # no edit history on one side: only labels filling a gap come across without asking
            ours_labelled = o.labelled(task) if task != "au" else (o.au != -1).any(axis=1)
            theirs_changed = differ
            ours_changed = differ & ours_labelled
        conflict = theirs_changed & ours_changed
        take = theirs_changed & ~ours_changed
        if prefer == "theirs":
            take |= conflict
        if conflict.any():
            plan.conflicts[task] = runs(conflict)
        if take.any():
            plan.take[task] = runs(take)
    return plan


def _legacy_humans(folder: Path) -> dict[tuple[str, str], str]:
    """(video, track) -> annotator of human tracks a copy holds in its project store (made before lanes)."""
    from .project import Project

    copy = Project.open(folder, readonly=True)
    try:
        return {(v, n): copy.track_source(v, n).annotator or n for v in copy.videos for n in copy.track_names(v)
                if copy.owner_of(v, n) == "" and copy.track_source(v, n).kind == TrackKind.HUMAN}
    finally:
        copy.close()


def merge_lane(ours: Any, other: str | Path, prefer: str | None = None, apply: bool = True,
               push: Callable[[Edit], None] | None = None, report: MergeReport | None = None) -> MergeReport:
    """Merge the copy's lane of ``ours.lane`` (the annotator of this writable session) into it.

    Nothing changes when frames conflict and ``prefer`` is None, or when ``apply`` is False (a plan only).
    Edits go through ``push`` (the app's undo stack) or ``ours.history.push``; save afterwards.
    """
    from .opening import project_folder
    from .project import Project

    ann = ours.lane
    if ann is None or ours.readonly:
        raise ProjectError("a merge writes one annotator's lane: open the project as that annotator", ours.folder)
    there = Path(project_folder(other)).absolute()
    if there == ours.folder:
        raise ProjectError("the copy to merge is this project itself", there)
    legacy = _legacy_humans(there)
    report = report or MergeReport(str(there), prefer, [])
    theirs = Project.open(there, annotator=ann, readonly=True)
    try:
        plans = []
        for v in theirs.videos:
            for n in theirs.track_names(v):
                owner = theirs.owner_of(v, n)
                if owner is None or (owner == "" and legacy.get((v, n)) == ann):
                    if v not in ours.videos:
                        raise ProjectError(f"the copy's video {v!r} is not in this project (add it first)", ours.folder)
                    plans.append(plan_track(ann, ours, theirs, v, n, prefer))
        report.plans += plans
        if not apply or (report.conflicts and prefer is None):
            return report
        for plan in plans:
            _apply(plan, ours, theirs, report, str(there), push or ours.history.push)
        ours.absorb(theirs._vector)
    finally:
        theirs.close()
    return report


def merge_copy(project: str | Path, other: str | Path, annotators: list[str] | None = None,
               prefer: str | None = None, apply: bool = True) -> MergeReport:
    """Merge every annotator's lane of ``other`` (a copy of ``project``), or those named; all or nothing
    when frames conflict and ``prefer`` is None. ``apply`` False: the plan only (nothing changes)."""
    from .opening import project_folder
    from .project import Project

    here, there = Path(project_folder(project)).absolute(), Path(project_folder(other)).absolute()
    if here == there:
        raise ProjectError("the copy to merge is this project itself", there)
    names = sorted(set(lane_names(there)) | set(_legacy_humans(there).values()))
    if annotators:
        missing = [a for a in annotators if a not in names]
        if missing:
            raise ProjectError(f"the copy has no labels of {', '.join(missing)}", there)
        names = [a for a in names if a in annotators]
    sessions = []
    try:
        for ann in names:
            ours = Project.open(here, annotator=ann)
            sessions.append(ours)
            if ours.readonly:
                raise ProjectLockedError(f"cannot merge {ann}'s labels now: {ours.readonly_reason}", here)
        plan = MergeReport(str(there), prefer, [])
        for ours in sessions:
            merge_lane(ours, there, prefer, apply=False, report=plan)
        if (plan.conflicts and prefer is None) or not apply:
            return plan
        report = MergeReport(str(there), prefer, [])
        for ours in sessions:
            merge_lane(ours, there, prefer, report=report)
            ours.save()
        return report
    finally:
        for ours in sessions:
            ours.close()


def _apply(plan: TrackPlan, ours: Any, theirs: Any, report: MergeReport, where: str,
           push: Callable[[Edit], None]) -> None:
    if not plan.take:
        return
    t: Track = theirs.track(plan.video, plan.track)
    if plan.new:
        ours.new_track(plan.video, plan.track, TrackSource.human(plan.annotator))
    for task, rr in plan.take.items():
        for a, b in rr:
            push(Edit(plan.video, plan.track, task, a, t.array(task)[a:b].copy(),
                      author=f"{plan.annotator} (merged from {where})", kind="set"))
            report.merged += b - a
            report.edits += 1
