"""What the main window has open: the project (open, create beside a video, the demo, close, recent),
the video shown (with the playback position it was left at), relocated media, and the annotator.
The window's ``open_project``, ``show_video`` ... are these."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

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
    from .demo_maker import DemoMaker
    from .main_window import MainWindow


def close_quietly(project: Project) -> None:
    try:
        project.close()
    except AffectTraceError:
        pass


class ProjectControl:
    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self.demo_maker: DemoMaker | None = None  # made on the demo's first start

    # ------------------------------------------------------------------ projects
    def set_project(self, project: Project) -> None:
        w = self.win
        w.attach_timeline()
        self.remember_position()
        w.player.close()
        old = w.session.project
        w.session.set_project(project)
        if old is not None and old is not project:
            close_quietly(old)
        w.tracks.fused = None
        w.settings.add_recent(project.folder)
        self.refresh_recent()
        w.views.start_page.hide()
        w.setWindowTitle(f"AffectTrace — {project.name}" + ("  [read-only]" if project.readonly else ""))
        w.views.au_panel.set_aus(tuple(project.au_set.aus))
        w.notices.show_project(project)
        if not w.session.annotator:
            self.choose_annotator_at_start()
        w.refresh_browser()
        first = next(iter(project.videos), None)
        last = w.settings.get(f"last_video/{project.folder}")
        name = last if last in project.videos else first
        if name is not None:
            self.show_video(name)

    def close_project(self) -> None:
        w = self.win
        p = w.session.project
        if p is None:
            return
        w.finish_work()
        w.save(quiet=True)
        w.player.close()
        w.session.set_project(None)
        close_quietly(p)
        w.views.video.clear()
        w.display.clear()
        w.setWindowTitle("AffectTrace")
        w.show_start_page()

    def open_project(self, folder: str | Path) -> bool:
        try:
            project = self.win.team.open(folder)
        except AffectTraceError as e:
            self.win.report_error(str(e))
            return False
        self.set_project(project)
        return True

    def open_demo(self, wait: bool | None = None) -> bool:
        """Open the demo project. Its first start makes it (seconds): in the background, the window
        responsive, unless ``wait`` (default: wait when not interactive, e.g. --screenshot)."""
        folder = demo_folder()
        if not is_project(folder) and not (not self.win.interactive if wait is None else wait):
            if self.demo_maker is None:
                from .demo_maker import DemoMaker

                self.demo_maker = DemoMaker(self.win)
            self.demo_maker.start(folder, demo_seconds())
            return True
        try:
            project = ensure_demo()
        except AffectTraceError as e:
            self.win.report_error(str(e))
            return False
        self.set_project(project)
        return True

    def open_video_file(self, path: str | Path) -> bool:
        """Check the media, then create (or reopen) the project beside it, asking first when interactive."""
        w, path = self.win, Path(path)
        try:
            check_media(path)
        except AffectTraceError as e:
            w.report_error(str(e))
            return False
        if w.interactive and not dialogs.confirm_project_for_video(w, path, folder_for_video(path)):
            return False
        try:
            project, name = open_or_create_for_video(path)
        except AffectTraceError as e:
            w.report_error(str(e))
            return False
        if name is not None:
            w.settings.set(f"last_video/{project.folder}", name)
        self.set_project(project)
        return True

    def ask_open_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.win, "Open project folder")
        if folder:
            self.open_project(folder)

    def ask_open_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.win, "Open video", "", VIDEO_FILTER)
        if path:
            self.open_video_file(path)

    def refresh_recent(self) -> None:
        m = self.win.menus.recent
        m.clear()
        for folder in self.win.settings.recent_projects():
            m.addAction(folder, lambda f=folder: self.open_project(f))
        m.setEnabled(bool(m.actions()))

    # ------------------------------------------------------------------ videos
    def show_video(self, name: str) -> None:
        w = self.win
        s, p, v = w.session, w.session.project, w.views
        if p is None or name not in p.videos:
            return
        self.remember_position()
        w.annot.set_armed(False)
        w.player.close()
        w.annot.clear_marks()
        w.fusion.reset()
        w.agreement_runner.cancel()
        v.agreement.show_result(None, "Press Compute for this video.")
        s.set_video(name)
        w.settings.set(f"last_video/{p.folder}", name)
        e = p.videos[name]
        fps = Fraction(e.fps)
        v.timeline.set_video(e.frame_count, float(fps))
        try:
            w.refresh_tracks()
        except AffectTraceError as err:  # e.g. an unreadable track file: say so, keep the window usable
            w.report_error(str(err))
        v.browser.select(name)
        w.faces = None
        w.show_overlay_state(None)
        if p.is_missing(name):
            v.video.clear(f"Media not found: {p.media_path(name)}\nRight-click the video in the Project list "
                          "to relocate it. Labels can still be viewed on the timeline.")
            v.transport.note.setText("media missing")
            return
        from core.media import MediaReader

        media = p.media_path(name)
        start = w.settings.get(self._position_key(), 0, int) or 0
        w.player.open(lambda: MediaReader(media, cache_frames=8, readahead=False), e.frame_count, fps,
                      has_audio_track=bool(e.has_audio), start=min(max(0, start), e.frame_count - 1))
        cache = p.cache_dir("faces") / f"{name}.h5"
        w.extras.load(media, bool(e.has_audio), float(e.duration_s), e.frame_count, float(fps), cache)

    def reload_faces(self) -> None:
        """A job made the shown video's face cache: draw the overlay from it (the audio, once loaded, stays)."""
        w = self.win
        p, name = w.session.project, w.session.video
        if p is None or name is None or w.faces is not None or p.is_missing(name):
            return
        e = p.videos[name]
        if e.has_audio and w.player.audio is None:
            return  # its loading is under way and reads the cache too
        w.extras.load(p.media_path(name), False, float(e.duration_s), e.frame_count, float(Fraction(e.fps)),
                      p.cache_dir("faces") / f"{name}.h5")

    def _position_key(self) -> str:
        s = self.win.session
        return f"position/{s.project.folder}/{s.video}"

    def remember_position(self) -> None:
        """The frame this video is at, restored when it is shown again (also after a restart)."""
        w = self.win
        if w.session.project is not None and w.session.video is not None and w.player.position >= 0:
            w.settings.set(self._position_key(), int(w.player.position))

    def relocate(self, video: str | None) -> None:
        w = self.win
        p = w.session.project
        if p is None or video is None:
            return
        path, _ = QFileDialog.getOpenFileName(w, f"Where is the media of {video}?", str(p.folder), VIDEO_FILTER)
        if not path:
            return
        try:
            p.relocate(video, path)
        except AffectTraceError as e:
            return w.report_error(str(e))
        w.refresh_browser()
        w.notices.show_project(p)
        self.show_video(video)

    # ------------------------------------------------------------------ annotator
    def choose_annotator_at_start(self) -> None:
        w = self.win
        p = w.session.project
        given = w.settings.this_start("annotator")
        if given:  # --annotator: this start only, not saved
            return self.set_annotator(given, remember=False)
        remembered = w.settings.remembered_annotator()
        if remembered or not w.interactive:  # scripts (--screenshot) never choose for the person
            return self.set_annotator(remembered or default_annotator(), remember=False)
        name = dialogs.choose_annotator(w, list(p.annotators) if p else [], default_annotator())
        self.set_annotator(name or default_annotator(), remember=bool(name))

    def ask_annotator(self) -> None:
        w = self.win
        p = w.session.project
        name = dialogs.choose_annotator(w, list(p.annotators) if p else [], w.session.annotator)
        if name:
            self.set_annotator(name)

    def set_annotator(self, name: str, remember: bool = True) -> None:
        """Annotate as ``name``; ``remember``: the person chose it in the app (a later start uses it)."""
        w = self.win
        w.annot.set_armed(False)
        if w.team.switch_lane(name):  # a team project: opened again as that annotator's lane
            if remember:
                w.settings.annotator = name
            return
        w.session.set_annotator(name)
        if remember:
            w.settings.annotator = name
        w.refresh_tracks()
        w.refresh_browser()
