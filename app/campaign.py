"""The campaign in the app: the Campaign dock (app/widgets/campaign_panel.py) filled from core's status and
queue (core.project.campaign) off the GUI thread, "Next assigned video", and assigning videos and tasks
under the short project lease (written by a fresh writable session in a worker, as `project assign` does)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QScrollArea

from core.errors import AffectTraceError
from core.project import Project, open_project
from core.project.campaign import QueueItem, assign, next_assigned, queue, status

from .background import Background
from .widgets.campaign_panel import CampaignPanel

if TYPE_CHECKING:
    from .context import WindowContext

REFRESH_MS = 15000  # the progress table follows the lanes' saves this often while it is shown


@dataclass
class Progress:
    annotator: str
    queue: list[QueueItem]
    status: dict[str, Any]


Result = Progress | str  # a progress read, or what an assignment did (in words)


def read_progress(folder: Path, annotator: str) -> Progress:
    """The queue and the status table as saved now, from a read-only session of its own (off the GUI thread)."""
    p = open_project(folder, readonly=True)
    try:
        return Progress(annotator, queue(p, annotator) if annotator else [], status(p))
    finally:
        p.close()


def write_assignments(folder: Path, annotators: list[str], videos: list[str], tasks: list[str],
                      remove: bool) -> str:
    """Assign under the project lease (a short writable session of the project's store); what was done, in words."""
    with Project.open_writable(folder) as p:
        assign(p, annotators, videos, tasks, remove=remove)
    return assigned_text(annotators, videos, tasks, remove)


def assigned_text(annotators: list[str], videos: list[str], tasks: list[str], remove: bool) -> str:
    verb = "Took back" if remove else "Assigned"
    return (f"{verb} {'+'.join(t.upper() for t in tasks)} of {len(videos)} video(s) "
            f"{'from' if remove else 'to'} {', '.join(annotators)}")


class CampaignControl(QObject):
    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.app.window)
        self.ctx, self.app = ctx, ctx.app
        self.bg: Background[Result] = Background(self, threads=1)  # one at a time: reads, assignments
        self.panel = CampaignPanel()
        area = QScrollArea()  # a short dock column scrolls the panel instead of growing the window
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.NoFrame)
        area.setWidget(self.panel)
        self.dock = ctx.app.add_dock(area, "Campaign", "campaign", Qt.LeftDockWidgetArea, "dock_project",
                                         hidden=True)
        self.progress: Progress | None = None
        self.refreshes = 0  # results shown (tests wait on it)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self.action = ctx.app.actions.add("next_assigned", "Next assigned video", lambda: self.next_video(),
                                       "Ctrl+Shift+N", "Annotate",
                                       tip="The next video of your queue that is not done yet (Campaign panel)")
        p = self.panel
        p.videoActivated.connect(ctx.show_video)
        p.nextRequested.connect(self.next_video)
        p.refreshRequested.connect(self.refresh)
        p.assignRequested.connect(self.assign)
        ctx.app.session.annotatorChanged.connect(self._annotator_changed)

    def project_opened(self, team: bool) -> None:
        """A project was opened: the dock shows itself for a team project."""
        self.bg.cancel()
        self.progress = None
        self.panel.show_queue(self.app.session.annotator, [], None)
        self.panel.show_status(None)
        if team:
            self.dock.show()
            self.timer.start()
            self.refresh()
        else:
            self.timer.stop()

    def _annotator_changed(self, _name: str) -> None:
        if self.timer.isActive():  # a team project: the queue is the new annotator's
            self.refresh()

    def _tick(self) -> None:
        if self.dock.isVisible() and self.bg.running("progress") is None:
            self.refresh()

    def refresh(self) -> None:
        s = self.app.session
        if s.project is None:
            return
        folder, annotator = s.project.folder, s.annotator
        self.bg.submit(lambda: read_progress(folder, annotator),
                       lambda r, err: self._shown(r if isinstance(r, Progress) else None, err), key="progress")

    def _shown(self, progress: Progress | None, error: str) -> None:
        self.refreshes += 1
        if progress is None:
            self.panel.note.setText(f"Progress could not be read: {error}")
            return
        self.progress = progress
        if self.panel.note.text().startswith("Progress could not be read"):
            self.panel.note.setText("")
        self.panel.show_queue(progress.annotator, progress.queue, self.app.session.video)
        self.panel.show_status(progress.status)

    def next_video(self) -> None:
        """Show the next assigned video not done yet (after the one shown, wrapping round)."""
        s = self.app.session
        if s.project is None:
            return
        try:
            name = next_assigned(s.project, s.annotator, after=s.video)
        except AffectTraceError as e:
            return self.ctx.notices.error(str(e))
        if name is None:
            mine = queue(s.project, s.annotator)
            self.app.say("Every other video assigned to you is done" if mine else
                         f"Nothing is assigned to {s.annotator} in this project")
            return
        self.ctx.show_video(name)
        self.app.say(f"Next assigned video: {name}")

    def assign(self, annotators: list[str], tasks: list[str], remove: bool = False) -> None:
        """Assign (or take back) ``tasks`` of the selected videos (else the one shown) to ``annotators``."""
        c, s = self.ctx, self.app.session
        if s.project is None:
            return
        videos = c.views.browser.selected() or ([s.video] if s.video else [])
        if not annotators or not tasks or not videos:
            self.panel.note.setText("Name the annotators, tick a task and select videos in the Project list first.")
            return
        p = s.project
        if p.lane is None and not p.readonly:  # this window writes the project's store: assign right here
            try:
                assign(p, annotators, videos, tasks, remove=remove)
            except AffectTraceError as e:
                return c.notices.error(str(e))
            return self._assigned(assigned_text(annotators, videos, tasks, remove), "")
        folder = p.folder
        self.bg.submit(lambda: write_assignments(folder, annotators, videos, tasks, remove),
                       lambda r, err: self._assigned(r if isinstance(r, str) else None, err), key="assign")

    def _assigned(self, text: str | None, error: str) -> None:
        if error or text is None:
            return self.ctx.notices.error(error or "the assignment was not written")
        self.panel.note.setText(text)
        self.app.say(text)
        self.refresh()

    def shutdown(self) -> None:
        self.timer.stop()
        self.bg.shutdown(5000)
