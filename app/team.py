"""Annotating as a team in the app: a team project opens as the annotator's lane (core.project.lanes), others'
saves show within seconds by polling, one's own edits are saved a second after they are made (that is when
the others can see them), a banner while the share is away or full, read-only with "Take over…" when the
annotator is open elsewhere. Merging a copy is app/merge_copy.py, the campaign app/widgets/campaign_panel.py.

Every POLL_MS a Background worker reads what the share holds (head pointers, the indexes that moved, the
changed tracks of the shown video, lane reachability, leases: ``Project.read_fresh``), so a hung share never
blocks the window; ``poll_changes`` applies that on the GUI thread, only when a head moved, the share answered
again or the lease is due a look, and emits the change signals the views redraw on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QSignalBlocker, QTimer
from PySide6.QtWidgets import QBoxLayout, QLabel, QMessageBox

from core.errors import AffectTraceError
from core.project import Project
from core.project.campaign import ASSIGNMENTS_NAME
from core.project.lanefiles import TEAM_DIR, lane_is_reachable
from core.project.lanes import Annotator, Fresh

from .background import Background
from .campaign import CampaignControl
from .merge_copy import MergeCopy
from .settings import default_annotator

if TYPE_CHECKING:
    from .context import WindowContext

POLL_MS = 1000  # others' saves appear within about this (plus their save delay)
LEASE_POLLS = 3
PUBLISH_MS = 1000  # one's own edits are saved this long after the first unsaved one


def is_team_project(folder: Path) -> bool:
    """A project with annotator lanes or assignments: opened as the annotator's lane."""
    return (folder / TEAM_DIR).is_dir() or (folder / ASSIGNMENTS_NAME).is_file()


def ago(seconds: float | None) -> str:
    """'12 s ago', '3 min ago', '2 h ago'; 'not saved yet' for None."""
    if seconds is None:
        return "not saved yet"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.0f} h ago"


def annotator_line(a: Annotator, me: str, now: float) -> str:
    """One row of the annotator list: 'ann2 · 12 s ago · open on ws4'."""
    parts = [f"{a.name}  (you)" if a.name == me else a.name, ago(a.last_saved_ago(now))]
    if a.name != me and a.holder is not None:
        parts.append(f"open on {a.holder.host}" if a.online else f"{a.holder.host} silent")
    return " · ".join(parts)


@dataclass
class Look:
    """What one poll found off the GUI thread."""

    fresh: Fresh  # what the other stores saved since the last poll_changes
    unreachable: str | None  # why the own lane cannot be written now (None: it can)
    annotators: list[Annotator]


class TeamControl(QObject):
    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.app.window)
        self.ctx, self.app = ctx, ctx.app
        self.bg: Background[Look] = Background(self, threads=1)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self.publish_timer = QTimer(self)
        self.publish_timer.setSingleShot(True)
        self.publish_timer.setInterval(PUBLISH_MS)
        self.publish_timer.timeout.connect(self.publish)
        self.annotators: list[Annotator] = []
        self.offline_since: float | None = None  # since when this window says the share is away
        self.back_at: float | None = None  # when it came back (the banner says so until the next problem)
        self.polls = 0  # polls delivered (tests wait on it)
        self.banner = QLabel("")
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        page = ctx.views.page.layout()
        if isinstance(page, QBoxLayout):  # above the notices' banner and the video
            page.insertWidget(0, self.banner)
        reg = ctx.app.actions
        self.take_over_action = reg.add("take_over", "Take over this annotator…", lambda: self.take_over(), None,
                                        "File", tip="Take this annotator's lane from the session holding it "
                                        "(asks first; recorded in the project)")
        self.take_over_action.setEnabled(False)
        self.merge = MergeCopy(ctx, merged=self.poll)  # File > Merge copy…
        self.campaign = CampaignControl(ctx)  # the Campaign dock, Next assigned video
        # the Project panel refills its list with bare names (after each save): the last saves go back at once
        ctx.views.browser.annotators.model().rowsInserted.connect(
            lambda *_a: self.annotators and QTimer.singleShot(0, self.show_annotators))
        self.was_readonly = False
        ctx.app.session.projectChanged.connect(self._on_project)
        ctx.app.session.labelsChanged.connect(self._on_labels)

    # ------------------------------------------------------------------ opening
    def annotator_for_open(self) -> str:
        """Whose lane a team project opens as: the window's annotator, else this start's, else remembered."""
        s = self.app.settings
        return (self.app.session.annotator or s.this_start("annotator") or s.remembered_annotator()
                or default_annotator())

    def open(self, folder: str | Path, take_over: bool = False) -> Project:
        """Open ``folder``: a team project as the annotator's lane, any other as before."""
        from core.project import open_project
        from core.project.opening import project_folder

        where = project_folder(folder)
        if is_team_project(Path(where)):
            return Project.open(where, annotator=self.annotator_for_open(), take_over=take_over)
        return open_project(folder)

    def switch_lane(self, name: str) -> bool:
        """Annotate as ``name`` in a team project: the project is saved and opened again as their lane.
        False when this is no team session (the caller changes the annotator as before)."""
        c, s = self.ctx, self.app.session
        p = s.project
        if p is None or p.lane is None or name == p.lane:
            return False
        c.finish_work()
        c.save_quietly()
        s.annotator = name
        try:
            fresh = self.open(p.folder)
        except AffectTraceError as e:
            c.notices.error(str(e))
            return True
        c.set_project(fresh)
        s.set_annotator(name)
        c.refresh_tracks()
        c.refresh_browser()
        return True

    def _on_project(self) -> None:
        p = self.app.session.project
        self.bg.cancel()
        self.publish_timer.stop()
        self.offline_since = self.back_at = None
        self.annotators = []
        self._show_banner()
        team = p is not None and (p.lane is not None or is_team_project(p.folder))
        self.take_over_action.setEnabled(bool(p is not None and p.readonly and p.holder_info is not None))
        self.was_readonly = bool(p is not None and p.readonly)
        self.campaign.project_opened(team)
        if team:
            self.poll_timer.start()
            self.poll()
        else:
            self.poll_timer.stop()

    # ------------------------------------------------------------------ polling
    def poll(self) -> None:
        p = self.app.session.project
        if p is None or self.bg.running("poll") is not None:
            return
        root, writable = p.root, p.lane is not None and not p.readonly
        shown = [v for v in (self.app.session.video,) if v is not None]
        lease_due = not p.readonly and (self.polls + 1) % LEASE_POLLS == 0  # (only one look runs at a time)

        def look() -> Look:
            return Look(p.read_fresh(shown, check_lease=lease_due), lane_is_reachable(root) if writable else None,
                        p.annotators_now())

        def looked(r: Look | None, err: str) -> None:
            self._looked(p, r, err)

        self.bg.submit(look, looked, key="poll")

    def _looked(self, p: Project, r: Look | None, err: str) -> None:
        if p is not self.app.session.project:
            return
        self.polls += 1
        if r is None:  # the share answered nothing sensible: say so like an unreachable share
            r = Look(Fresh({}, {}), err, self.annotators)
        self.annotators = r.annotators
        was_offline = p.offline_since is not None
        # every LEASE_POLLS polls also when nothing moved: poll_changes checks that this session still holds its
        # lane (taken over from another workstation, it turns read-only before the next edit is refused)
        if r.fresh.moved or (was_offline and r.unreachable is None) \
                or (not p.readonly and self.polls % LEASE_POLLS == 0):
            self._take_changes(p, r.fresh)
        if was_offline and p.offline_since is None:  # the spool went into the lane's journal
            self.back_at = time.time()
            self.ctx.save_quietly()
        if p.offline_since is not None or r.unreachable is not None:
            self.offline_since = self.offline_since or p.offline_since or time.time()
            self.back_at = None
        elif self.offline_since is not None:
            self.back_at = self.back_at or time.time()
            self.offline_since = None
        if p.readonly and not self.was_readonly:  # e.g. taken over from another workstation meanwhile
            self.was_readonly = True
            self.ctx.notices.problem(f"Read-only now: {p.readonly_reason}. Your edits so far are kept.")
        if p.readonly and p.holder_info is not None:
            self.take_over_action.setEnabled(True)
        self._show_banner(p.offline_reason or r.unreachable)
        self.show_annotators()

    def _take_changes(self, p: Project, fresh: Fresh) -> None:
        """Read what the others saved and redraw only that: a changed track's curve and lanes; the whole track
        list only when the shown video gained or lost a track."""
        c, s = self.ctx, self.app.session
        video = s.video
        before = set(p.track_names(video)) if video in p.videos else set()
        videos = list(p.videos)
        try:
            with QSignalBlocker(s):  # the views hear about it below, once and narrowly
                changes = p.poll_changes(fresh)
        except AffectTraceError as e:
            return c.notices.problem(str(e))
        if list(p.videos) != videos:  # the lead added or removed videos
            c.refresh_browser()
        if video is not None and video in p.videos and set(p.track_names(video)) != before:
            s.tracksChanged.emit(video)
            changes = [c for c in changes if c[1] != video]
        tl = c.views.timeline
        for _owner, v, name in changes:
            if not p.has_track(v, name):
                continue
            if v == video and tl is not None:
                try:
                    tl.replace_track(p.track(v, name))
                except AffectTraceError as e:
                    c.notices.problem(str(e))
                    continue
            s.labelsChanged.emit(v, name, "", 0, p.videos[v].frame_count)

    def show_annotators(self) -> None:
        """The project browser's annotator list with each one's last save ('ann2 · 12 s ago')."""
        lst = self.ctx.views.browser.annotators
        now, me = time.time(), self.app.session.annotator
        lines = [annotator_line(a, me, now) for a in self.annotators]
        if [lst.item(i).text() for i in range(lst.count())] == lines:
            return
        lst.clear()
        lst.addItems(lines)

    def _show_banner(self, why: str | None = None) -> None:
        b = self.banner
        if self.offline_since is not None:
            since = time.strftime("%H:%M:%S", time.localtime(self.offline_since))
            b.setText(f"The project's share cannot be written since {since}" + (f" ({why})" if why else "")
                      + ". Your edits go on into a local spool on this computer and reach the share when it "
                      "answers again; nothing is lost. Others' saves are not shown meanwhile.")
        elif self.back_at is not None:
            at = time.strftime("%H:%M:%S", time.localtime(self.back_at))
            b.setText(f"The share answered again at {at}: the edits made meanwhile were replayed from the local "
                      "spool into your lane and saved.")
        else:
            b.setText("")
        p = self.app.session.project
        if p is not None and p.readonly and p.holder_info is not None:
            h = p.holder_info
            b.setText(f"{h.holder} is annotating on {h.host} (pid {h.pid}), so this window only shows their labels. "
                      "File > Take over this annotator… moves their lane here (it asks first, and is recorded).")
        b.setVisible(bool(b.text()))

    # ------------------------------------------------------------------ publishing one's own edits
    def _on_labels(self, video: str, track: str, _task: str, _start: int, _stop: int) -> None:
        p = self.app.session.project
        if p is not None and p.lane is not None and track == p.lane and not p.readonly \
                and not self.publish_timer.isActive():
            self.publish_timer.start()

    def publish(self) -> None:
        """Save the lane, so that the others' windows show these edits at their next poll."""
        p = self.app.session.project
        if p is not None and p.lane is not None and not p.readonly and p.unsaved:
            self.ctx.save_quietly()

    # ------------------------------------------------------------------ take over
    def take_over(self, ask: Callable[[str], bool] | None = None) -> bool:
        """Take this annotator's lane from the session holding it, after asking (``ask`` replaces the dialog)."""
        c = self.ctx
        p = self.app.session.project
        if p is None or not p.readonly or p.holder_info is None:
            return False
        question = (f"{p.lane}'s labels are open in another session: {p.holder_info}.\n\nTake them over here? "
                    "That session can no longer save (its edits so far are kept and replayed here), and the "
                    "take-over is recorded in the project.")
        yes = ask(question) if ask is not None else QMessageBox.question(
            self.app.window, "Take over", question, QMessageBox.Yes | QMessageBox.No, QMessageBox.No) == QMessageBox.Yes
        if not yes:
            return False
        try:
            fresh = self.open(p.folder, take_over=True)
        except AffectTraceError as e:
            c.notices.error(str(e))
            return False
        c.set_project(fresh)
        self.app.say(f"Took over {fresh.lane}'s labels (recorded in the project)")
        return not fresh.readonly

    def shutdown(self) -> None:
        self.poll_timer.stop()
        self.publish_timer.stop()
        self.bg.shutdown(3000)
        self.merge.shutdown()
        self.campaign.shutdown()
