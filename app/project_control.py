"""What the main window has open: the project (open, create beside a video, the demo, close, recent),
the video shown (with the playback position it was left at), relocated media, and the annotator.
The window's ``open_project``, ``show_video`` ... are these. It takes the window context (app/context.py)
and the window's own steps it starts (ProjectSteps), never the window."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtWidgets import QFileDialog, QMenu

from core.errors import AffectTraceError
from core.project import Project

from . import dialogs
from .opening import (
    VIDEO_FILTER,
    check_media,
    demo_folder,
    demo_seconds,
    ensure_demo,
    folder_for_video,
    is_project,
    open_or_create_for_video,
)
from .settings import default_annotator

if TYPE_CHECKING:
    from .context import WindowContext
    from .demo_maker import DemoMaker
    from .frame_display import FrameDisplay
    from .track_display import TrackDisplay
    from .video_loader import VideoExtrasLoader


def close_quietly(project: Project) -> None:
    try:
        project.close()
    except AffectTraceError:
        pass


@dataclass(frozen=True)
class ProjectSteps:
    """The parts of the main window that opening a project or a video resets, and its steps around that."""

    display: FrameDisplay
    tracks: TrackDisplay
    extras: VideoExtrasLoader  # the shown video's audio and face overlay, loaded off the GUI thread
    attach_timeline: Callable[[], None]
    stop_recording: Callable[[], None]  # disarm: a recording pass ends (its samples written)
    leave_video: Callable[[], None]  # recording off, player closed, marks, fusion and agreement reset
    finish_work: Callable[[], None]  # recording passes and held keys written, position remembered
    show_start_page: Callable[[], None]
    forget_faces: Callable[[], None]  # no face overlay (until the new video's cache is loaded)
    faces_shown: Callable[[], bool]
    open_lane: Callable[[str | Path], Project]  # open a project (a team project as this annotator's lane)
    switch_lane: Callable[[str], bool]  # False when this is no team session
    refresh_tracks: Callable[[], None]
    refresh_browser: Callable[[], None]
    recent_menu: Callable[[], QMenu]


class ProjectControl:
    def __init__(self, ctx: WindowContext, steps: ProjectSteps) -> None:
        self.ctx, self.app, self.steps = ctx, ctx.app, steps
        self.demo_maker: DemoMaker | None = None  # made on the demo's first start

    # ------------------------------------------------------------------ projects
    def set_project(self, project: Project) -> None:
        c, a, st = self.ctx, self.app, self.steps
        st.attach_timeline()
        self.remember_position()
        c.player.close()
        old = a.session.project
        a.session.set_project(project)
        if old is not None and old is not project:
            close_quietly(old)
        st.tracks.fused = None
        a.settings.add_recent(project.folder)
        self.refresh_recent()
        c.views.start_page.hide()
        a.window.setWindowTitle(f"AffectTrace — {project.name}" + ("  [read-only]" if project.readonly else ""))
        c.views.au_panel.set_aus(tuple(project.au_set.aus))
        c.notices.show_project(project)
        if not a.session.annotator:
            self.choose_annotator_at_start()
        st.refresh_browser()
        first = next(iter(project.videos), None)
        last = a.settings.get(f"last_video/{project.folder}")
        name = last if last in project.videos else first
        if name is not None:
            self.show_video(name)

    def close_project(self) -> None:
        c, a, st = self.ctx, self.app, self.steps
        p = a.session.project
        if p is None:
            return
        st.finish_work()
        c.save_quietly()
        c.player.close()
        a.session.set_project(None)
        close_quietly(p)
        c.views.video.clear()
        st.display.clear()
        a.window.setWindowTitle("AffectTrace")
        st.show_start_page()

    def open_project(self, folder: str | Path) -> bool:
        try:
            project = self.steps.open_lane(folder)
        except AffectTraceError as e:
            self.ctx.notices.error(str(e))
            return False
        self.set_project(project)
        return True

    def open_demo(self, wait: bool | None = None) -> bool:
        """Open the demo project. Its first start makes it (seconds): in the background, the window
        responsive, unless ``wait`` (default: wait when not interactive, e.g. --screenshot)."""
        folder = demo_folder()
        if not is_project(folder) and not (not self.ctx.interactive if wait is None else wait):
            if self.demo_maker is None:
                from .demo_maker import DemoMaker

                self.demo_maker = DemoMaker(self.ctx, self.open_project)
            self.demo_maker.start(folder, demo_seconds())
            return True
        try:
            project = ensure_demo()
        except AffectTraceError as e:
            self.ctx.notices.error(str(e))
            return False
        self.set_project(project)
        return True

    def open_video_file(self, path: str | Path) -> bool:
        """Check the media, then create (or reopen) the project beside it, asking first when interactive."""
        c, path = self.ctx, Path(path)
        try:
            check_media(path)
        except AffectTraceError as e:
            c.notices.error(str(e))
            return False
        if c.interactive and not dialogs.confirm_project_for_video(c.app.window, path, folder_for_video(path)):
            return False
        try:
            project, name = open_or_create_for_video(path)
        except AffectTraceError as e:
            c.notices.error(str(e))
            return False
        if name is not None:
            c.app.settings.set(f"last_video/{project.folder}", name)
        self.set_project(project)
        return True

    def ask_open_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.app.window, "Open project folder")
        if folder:
            self.open_project(folder)

    def ask_open_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.app.window, "Open video", "", VIDEO_FILTER)
        if path:
            self.open_video_file(path)

    def refresh_recent(self) -> None:
        m = self.steps.recent_menu()
        m.clear()
        for folder in self.app.settings.recent_projects():
            m.addAction(folder, lambda f=folder: self.open_project(f))
        m.setEnabled(bool(m.actions()))

    # ------------------------------------------------------------------ videos
    def show_video(self, name: str) -> None:
        c, st = self.ctx, self.steps
        s, p, v = c.app.session, c.app.session.project, c.views
        if p is None or name not in p.videos:
            return
        self.remember_position()
        st.leave_video()
        s.set_video(name)
        c.app.settings.set(f"last_video/{p.folder}", name)
        e = p.videos[name]
        fps = Fraction(e.fps)
        assert v.timeline is not None  # attached with the project
        v.timeline.set_video(e.frame_count, float(fps))
        try:
            st.refresh_tracks()
        except AffectTraceError as err:  # e.g. an unreadable track file: say so, keep the window usable
            c.notices.error(str(err))
        v.browser.select(name)
        st.forget_faces()
        if p.is_missing(name):
            v.video.clear(f"Media not found: {p.media_path(name)}\nRight-click the video in the Project list "
                          "to relocate it. Labels can still be viewed on the timeline.")
            v.transport.note.setText("media missing")
            return
        from core.media import MediaReader

        media = p.media_path(name)
        start = c.app.settings.get(self._position_key(), 0, int) or 0
        c.player.open(lambda: MediaReader(media, cache_frames=8, readahead=False), e.frame_count, fps,
                      has_audio_track=bool(e.has_audio), start=min(max(0, start), e.frame_count - 1))
        cache = p.cache_dir("faces") / f"{name}.h5"
        st.extras.load(media, bool(e.has_audio), float(e.duration_s), e.frame_count, float(fps), cache)

    def reload_faces(self) -> None:
        """A job made the shown video's face cache: draw the overlay from it (the audio, once loaded, stays)."""
        p, name = self.app.session.project, self.app.session.video
        if p is None or name is None or self.steps.faces_shown() or p.is_missing(name):
            return
        e = p.videos[name]
        if e.has_audio and self.ctx.player.audio is None:
            return  # its loading is under way and reads the cache too
        self.steps.extras.load(p.media_path(name), False, float(e.duration_s), e.frame_count, float(Fraction(e.fps)),
                      p.cache_dir("faces") / f"{name}.h5")

    def _position_key(self) -> str:
        s = self.app.session
        assert s.project is not None
        return f"position/{s.project.folder}/{s.video}"

    def remember_position(self) -> None:
        """The frame this video is at, restored when it is shown again (also after a restart)."""
        s, player = self.app.session, self.ctx.player
        if s.project is not None and s.video is not None and player.position >= 0:
            self.app.settings.set(self._position_key(), int(player.position))

    def relocate(self, video: str | None) -> None:
        c = self.ctx
        p = c.app.session.project
        if p is None or video is None:
            return
        path, _ = QFileDialog.getOpenFileName(c.app.window, f"Where is the media of {video}?", str(p.folder),
                                              VIDEO_FILTER)
        if not path:
            return
        try:
            p.relocate(video, path)
        except AffectTraceError as e:
            return c.notices.error(str(e))
        self.steps.refresh_browser()
        c.notices.show_project(p)
        self.show_video(video)

    # ------------------------------------------------------------------ annotator
    def choose_annotator_at_start(self) -> None:
        a = self.app
        p = a.session.project
        given = a.settings.this_start("annotator")
        if given:  # --annotator: this start only, not saved
            return self.set_annotator(given, remember=False)
        remembered = a.settings.remembered_annotator()
        if remembered or not self.ctx.interactive:  # scripts (--screenshot) never choose for the person
            return self.set_annotator(remembered or default_annotator(), remember=False)
        name = dialogs.choose_annotator(a.window, list(p.annotators) if p else [], default_annotator())
        self.set_annotator(name or default_annotator(), remember=bool(name))

    def ask_annotator(self) -> None:
        a = self.app
        p = a.session.project
        name = dialogs.choose_annotator(a.window, list(p.annotators) if p else [], a.session.annotator)
        if name:
            self.set_annotator(name)

    def set_annotator(self, name: str, remember: bool = True) -> None:
        """Annotate as ``name``; ``remember``: the person chose it in the app (a later start uses it)."""
        a, st = self.app, self.steps
        st.stop_recording()
        if st.switch_lane(name):  # a team project: opened again as that annotator's lane
            if remember:
                a.settings.annotator = name
            return
        a.session.set_annotator(name)
        if remember:
            a.settings.annotator = name
        st.refresh_tracks()
        st.refresh_browser()
