"""File > Merge copy…: bring back the labels made in a copy of the project (a laptop), as `affecttrace project
merge` does. Frames edited on both sides are listed per annotator first, and the person chooses explicitly
which side wins; nothing is merged before that (all or nothing, like the command).

The other annotators' lanes are merged by the command itself, run through the job runner (`--plan` first,
then with the choice). This window's own lane is held by this window, so it is merged here, on the same
plan (core.project.merge.merge_lane), and its edits become one step of the window's undo stack.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.edits import Edit
from core.errors import AffectTraceError
from core.project.lanefiles import lane_names
from core.project.merge import MergeReport, TrackPlan, merge_lane
from core.project.opening import project_folder

from .background import Background
from .commands import push_edits

if TYPE_CHECKING:
    from .context import WindowContext
    from .jobs.job import Job

Choice = Callable[[list[str]], "str | None"]  # the conflict lines -> "theirs", "ours" or None (cancel)


def plans_of(result: dict[str, Any] | None) -> list[TrackPlan]:
    """The track plans of a `project merge --events` result."""
    out = []
    for t in (result or {}).get("tracks", []):
        out.append(TrackPlan(str(t["annotator"]), str(t["video"]), str(t["track"]),
                             {k: [(int(a), int(b)) for a, b in v] for k, v in t.get("take", {}).items()},
                             {k: [(int(a), int(b)) for a, b in v] for k, v in t.get("conflicts", {}).items()},
                             bool(t.get("new", False))))
    return out


@dataclass
class MergeRun:
    other: Path
    others: list[str]  # the copy's annotators merged by the command
    own: MergeReport | None = None  # this window's lane (its plan, then what was merged)
    job_plan: list[TrackPlan] = field(default_factory=list)
    waiting: int = 0  # parts of the plan still to come
    error: str = ""
    prefer: str | None = None

    def report(self) -> MergeReport:
        return MergeReport(str(self.other), self.prefer, (self.own.plans if self.own else []) + self.job_plan)


class MergeCopy(QObject):
    def __init__(self, ctx: WindowContext, merged: Callable[[], None]) -> None:
        """``merged``: called once a merge is done (the team control polls, so the others' lanes show)."""
        super().__init__(ctx.app.window)
        self.ctx, self.app, self.merged = ctx, ctx.app, merged
        self.bg: Background[MergeReport] = Background(self, threads=1)
        self.run: MergeRun | None = None
        self.choose: Choice | None = None  # tests answer the conflict question here
        self.result = ""  # the last outcome, as said in the status bar
        self.action = ctx.app.actions.add("merge_copy", "Merge copy…", lambda: self.ask(), None, "File",
                                       tip="Bring back the labels made in a copy of this project (e.g. on a laptop)")

    @property
    def busy(self) -> bool:
        return self.run is not None

    def ask(self) -> None:
        p = self.app.session.project
        if p is None:
            return
        folder = QFileDialog.getExistingDirectory(self.app.window, "Merge labels from a copy of this project",
                                                  str(p.folder))
        if folder:
            self.start(Path(folder))

    def start(self, other: Path) -> bool:
        """Plan the merge of ``other``: the command's plan for the other annotators, this lane's here."""
        c = self.ctx
        p = self.app.session.project
        if p is None or self.run is not None:
            return False
        other = Path(project_folder(other)).absolute()
        if p.readonly:
            c.notices.error(f"cannot merge into a read-only project: {p.readonly_reason}")
            return False
        if other == p.folder:
            c.notices.error(f"{other}: the copy to merge is this project itself")
            return False
        own = p.lane
        others = [a for a in lane_names(other) if a != own] if own is not None else []
        run = self.run = MergeRun(other, others)
        if own is not None:
            run.waiting += 1
            c.save_quietly()
            self.bg.submit(lambda: merge_lane(p, other, apply=False), self._own_planned, key="plan")
        if own is None or others:
            run.waiting += 1
            self._job(["--plan"], self._job_planned)
        self.app.say(f"Comparing with {other}…")
        return True

    def _job(self, extra: list[str], then: Callable[[Job], None]) -> None:
        p = self.app.session.project
        assert self.run is not None and p is not None
        argv = ["project", "merge", str(p.folder), str(self.run.other)]
        for a in self.run.others:
            argv += ["-a", a]
        job = self.app.runner.submit(argv + extra, f"Merge {self.run.other.name}")
        job.finished.connect(lambda _state, j=job: then(j))

    def _own_planned(self, report: MergeReport | None, error: str) -> None:
        if self.run is None:
            return
        self.run.own, self.run.error = report, self.run.error or error
        self._planned()

    def _job_planned(self, job: Job) -> None:
        if self.run is None:
            return
        if job.result_data is None:
            self.run.error = self.run.error or job.error or "the merge command gave no answer"
        self.run.job_plan = plans_of(job.result_data)
        self._planned()

    def _planned(self) -> None:
        run = self.run
        assert run is not None
        run.waiting -= 1
        if run.waiting > 0:
            return
        if run.error:
            return self._end(f"Merge of {run.other} stopped: {run.error}", error=True)
        report = run.report()
        if report.conflicts:
            lines = [ln for ln in report.lines() if not ln.startswith("nothing merged")]
            prefer = (self.choose or self._ask_prefer)(lines)
            if prefer is None:
                return self._end(f"Nothing merged from {run.other}")
            run.prefer = prefer
        if not any(plan.take for plan in report.plans) and run.prefer is None:
            return self._end(f"Nothing to merge from {run.other}: it holds no labels this project lacks")
        self._apply()

    def _ask_prefer(self, lines: list[str]) -> str | None:
        shown = lines[:30] + ([f"… and {len(lines) - 30} more lines"] if len(lines) > 30 else [])
        box = QMessageBox(QMessageBox.Question, "Merge copy", "Frames were edited both here and in the copy since "
                          "it was made. Which labels should these frames keep?", parent=self.app.window)
        box.setInformativeText("\n".join(shown))
        theirs = box.addButton("Keep the copy's labels (theirs)", QMessageBox.AcceptRole)
        ours = box.addButton("Keep this project's labels (ours)", QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.exec()
        return "theirs" if box.clickedButton() is theirs else "ours" if box.clickedButton() is ours else None

    def _apply(self) -> None:
        run = self.run
        assert run is not None
        c, s = self.ctx, self.app.session
        p = s.project
        if run.own is not None and p is not None and p.lane is not None:
            edits: list[Edit] = []
            try:
                run.own = merge_lane(p, run.other, run.prefer, push=edits.append)
            except AffectTraceError as e:
                return self._end(f"Merge of {run.other} stopped: {e}", error=True)
            push_edits(s.stack, p, edits, f"merge {len(edits)} edit(s) from {run.other.name}")
            c.refresh_tracks()
            c.save_quietly()
        if run.job_plan or (p is not None and p.lane is None):
            self._job(["--prefer", run.prefer] if run.prefer else [], self._job_done)
        else:
            self._finished()

    def _job_done(self, job: Job) -> None:
        if self.run is None:
            return
        if job.result_data is None or job.returncode != 0:
            return self._end(f"Merge of the other annotators from {self.run.other} failed: {job.error}", error=True)
        self.run.job_plan = plans_of(job.result_data)
        self._finished(int(job.result_data.get("merged_frames", 0)), int(job.result_data.get("edits", 0)))

    def _finished(self, frames: int = 0, edits: int = 0) -> None:
        run = self.run
        assert run is not None
        if run.own is not None:
            frames, edits = frames + run.own.merged, edits + run.own.edits
        who = "; conflicts: " + ("the copy's" if run.prefer == "theirs" else "this project's") + " labels kept" \
            if run.prefer else ""
        self.merged()
        self._end(f"Merged {frames} frame(s) from {run.other} as {edits} undoable edit(s){who}")

    def _end(self, text: str, error: bool = False) -> None:
        self.run = None
        self.result = text
        if error:
            self.ctx.notices.error(text)
        else:
            self.app.say(text)

    def shutdown(self) -> None:
        self.bg.shutdown(3000)
