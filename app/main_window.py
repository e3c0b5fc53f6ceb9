"""The main window: the start page, or the video and transport in the centre with docks for the
joystick, expression and AU panels, timeline, project browser and agreement. It wires views to the
session and the player; the work itself lives in core and in the small controllers beside this file.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QMargins, QObject, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from core.errors import AffectTraceError
from core.project import Project

from . import dialogs, resources
from .actions import ActionRegistry, build_actions
from .agreement_runner import AgreementRunner
from .annotate import AnnotationController
from .context import AppContext, WindowContext
from .controls import Controls
from .frame_display import FrameDisplay
from .fusion import FusionController
from .input.gamepad import GamepadConfig, GamepadInput
from .jobs import runner_for
from .key_filter import HoldKeyFilter
from .keys import HOLD_KEY_ROWS
from .layout import build_views, default_layout, make_dock, tab_left_column
from .notices import Notices
from .player import Player
from .project_control import ProjectControl, ProjectSteps, close_quietly
from .session import Session
from .settings import Settings
from .team import TeamControl
from .themes import apply_theme, theme
from .track_display import TrackDisplay
from .video_loader import FaceOverlay, VideoExtrasLoader
from .widgets.joystick import MODES

if TYPE_CHECKING:
    from .engine.wiring import EngineLoop

COVERAGE_DELAY_MS = 700  # the project table's coverage follows edits this long after the last one


# Room left for a window manager's frame (title bar, borders): Qt learns the real frame only once the
# window is shown, and a 1280x800 screen with a 20 px title and 5 px border cut the status bar off.
FRAME_ROOM = QMargins(6, 32, 6, 10)


def first_geometry() -> QRect:
    """A first start's window: the default size cut to the screen's free area less room for the frame,
    the frame centred in that area (the whole window, frame included, on the screen). Its top left is
    where the frame goes (``QWidget.move``), its size the window's. A saved geometry replaces it."""
    size = QSize(*resources.defaults()["window_size"])
    screen = QApplication.primaryScreen()
    if screen is None:
        return QRect(QPoint(0, 0), size)
    area = screen.availableGeometry()
    size = size.boundedTo(area.marginsRemoved(FRAME_ROOM).size())
    framed = QRect(QPoint(0, 0), size).marginsAdded(FRAME_ROOM)
    framed.moveCenter(area.center())
    return QRect(framed.topLeft(), size)


class MainWindow(QMainWindow):
    """The annotation window.

    Extending it (modules added later, e.g. app/jobs and app/engine, call only these):

    - ``win.add_dock(widget, title, name, area=Qt.RightDockWidgetArea, tabify_with=None)`` adds a dock
      (its layout is saved under ``name``; a toggle appears in View > Panels).
    - ``win.registry.menu("Engine")`` is a top-level menu (created before Help when new);
      ``win.registry.add(key, text, fn, shortcut, menu)`` adds an action; a shortcut already taken
      raises ValueError, and the shortcuts sheet (F1) lists it.
    - ``win.views`` holds every widget (``app.layout.WindowViews``); ``win.views.timeline`` takes extra
      lanes and bands (``Timeline.add_strip``, ``Timeline.add_band``), after ``attach_timeline()``.
    - Signals: ``win.themeChanged(Theme)``, ``win.session`` (projectChanged, videoChanged, labelsChanged,
      tracksChanged), ``win.player`` (frameShown, playingChanged).
    """

    themeChanged = Signal(object)  # app.themes.Theme, after the window has applied it

    def __init__(self, settings: Settings | None = None, interactive: bool = True, lazy: bool = False) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.interactive = interactive
        self.setWindowTitle("AffectTrace")
        self.setWindowIcon(resources.app_icon())
        self.session = Session(self)
        self.player = Player(self)
        self.views = build_views(self)
        v = self.views
        self.notices = Notices(self, v, interactive, lambda: self.session.project is None, self.show_start_page)
        self.annot = AnnotationController(self.session, self.player, v.joystick, self)
        self.display = FrameDisplay(v, self.session, self.player)
        self.tracks = TrackDisplay(v, self.session)
        self.extras = VideoExtrasLoader(self)
        self.faces: FaceOverlay | None = None
        self.engine: EngineLoop | None = None  # the engine's menu and docks, added with the timeline
        self.stop_jobs_on_close = not interactive  # else quitting while a job runs asks first
        self.saved_docks: set[str] = set()  # the docks whose places the restored layout holds
        self._tab_on_show: dict[QObject, str] = {}  # dock -> the dock it becomes a tab of when first shown
        self.theme = theme(self.settings.theme)
        self.registry = ActionRegistry(self)
        self.context = AppContext(self, self.session, runner_for(self), self.registry, self.settings,
                                  lambda: self.theme, self.themeChanged, self.add_dock,
                                  lambda text: self.statusBar().showMessage(text, 6000))
        self.controls = Controls(v, self.registry, self.annot, self.player, self.session,
                                 lambda m: self.statusBar().showMessage(m, 5000))
        self.window_context = WindowContext(
            self.context, self.player, v, self.notices, self.controls, interactive,
            marked_range=self.annot.marked_range, show_video=lambda name: self.show_video(name),
            save_quietly=lambda: self.save(quiet=True), reload_faces=lambda: self.projects.reload_faces(),
            place_dock=self.place_dock, set_project=lambda project: self.set_project(project),
            finish_work=self.finish_work, refresh_tracks=self.refresh_tracks, refresh_browser=self.refresh_browser)
        self.projects = ProjectControl(self.window_context, ProjectSteps(  # (parts made below: called later)
            self.display, self.tracks, self.extras, attach_timeline=self.attach_timeline,
            stop_recording=lambda: self.annot.set_armed(False), leave_video=self._leave_video,
            finish_work=self.finish_work, show_start_page=lambda: self.show_start_page(),
            forget_faces=self._forget_faces, faces_shown=lambda: self.faces is not None,
            open_lane=lambda folder: self.team.open(folder), switch_lane=lambda name: self.team.switch_lane(name),
            refresh_tracks=self.refresh_tracks, refresh_browser=self.refresh_browser,
            recent_menu=lambda: self.menus.recent))
        self.menus = build_actions(self, self.registry)
        for d in v.docks.values():
            self.menus.panels.addAction(d.toggleViewAction())
        v.transport.describe(self.registry.hint)
        self.agreement_runner = AgreementRunner(self.session, v.agreement, self)
        self.fusion = FusionController(self.session, v.agreement, self.tracks, self.refresh_tracks,
                                       lambda: self.save(quiet=True), self)
        self.fusion.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        # lanes, polling, the share's banner, take-over, merge, campaign
        self.team = TeamControl(self.window_context)
        self.pad = GamepadInput(GamepadConfig.from_dict(self.settings.get("gamepad", {}) or {}), self)
        self.key_filter = HoldKeyFilter(self, self.annot, lambda: len(v.au_panel.aus),
                                        lambda: v.video.setFocus(Qt.ShortcutFocusReason))
        QApplication.instance().installEventFilter(self.key_filter)
        self.autosave = QTimer(self)
        self.autosave.setInterval(int(resources.defaults()["autosave_ms"]))
        self.autosave.timeout.connect(lambda: self.save(quiet=True))
        self.autosave.start()
        self.coverage_timer = QTimer(self)
        self.coverage_timer.setSingleShot(True)
        self.coverage_timer.setInterval(COVERAGE_DELAY_MS)
        self.coverage_timer.timeout.connect(self._refresh_coverage)
        self._wire()
        if not lazy:
            self.attach_timeline()
        self.set_theme(self.settings.theme, remember=False)
        first = first_geometry()
        self.resize(first.size())
        geo, state = self.settings.window_geometry(), self.settings.window_state()
        if geo is None or not self.restoreGeometry(geo):
            self.move(first.topLeft())
        self._fresh_layout = state is None or not self.restoreState(state)
        self.saved_docks = set() if self._fresh_layout else self.settings.window_docks()
        if self._fresh_layout:
            self.default_layout()
        self.show_start_page()

    # ------------------------------------------------------------------ extension points
    def add_dock(self, widget: QWidget, title: str, name: str, area: Qt.DockWidgetArea = Qt.RightDockWidgetArea,
                 tabify_with: str | None = None, hidden: bool = False) -> QDockWidget:
        """Add a dock; ``name`` (unique) keys its saved place (restored when the layout was saved with it,
        else it goes to ``area``, as a tab of dock ``tabify_with``); ``hidden`` until shown (a hidden tab
        does not count in the window's minimum size)."""
        if name in self.views.docks:
            raise ValueError(f"a dock named {name!r} exists")
        d = make_dock(self, title, name, widget, None)
        if hidden:
            d.hide()
        self.views.docks[name] = d
        if not (name in self.saved_docks and self.restoreDockWidget(d)):  # (restores before it is added)
            self.addDockWidget(area, d)
            if tabify_with is not None:
                self.tabify(name, tabify_with)
        self.menus.panels.addAction(d.toggleViewAction())
        return d

    def place_dock(self, dock: QDockWidget, area: Qt.DockWidgetArea, beside: str) -> None:
        """Put a dock made elsewhere into ``area`` as a tab of dock ``beside`` (when first shown), unless
        the restored layout placed it."""
        if dock.objectName() not in self.saved_docks:
            self.addDockWidget(area, dock)
            self.tabify(dock.objectName(), beside)

    def tabify(self, name: str, beside: str) -> None:
        """Dock ``name`` as a tab of dock ``beside`` when it is first shown (a hidden dock tabified early
        leaves Qt's tab bars stale or missing), unless the restored layout placed it."""
        d = self.views.docks[name]
        if d.isVisible():
            self.tabifyDockWidget(self.views.docks[beside], d)
        else:
            self._tab_on_show[d] = beside
            d.installEventFilter(self)

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        if e.type() == QEvent.Show and obj in self._tab_on_show:
            beside = self._tab_on_show.pop(obj)
            obj.removeEventFilter(self)
            if obj.objectName() not in self.saved_docks:
                self.tabifyDockWidget(self.views.docks[beside], obj)
        return False

    def default_layout(self) -> None:
        default_layout(self, self.views)
        self.projects.refresh_recent()

    # ------------------------------------------------------------------ wiring
    def _wire(self) -> None:
        p, s, a, v = self.player, self.session, self.annot, self.views
        for follow in (lambda t: v.transport.retint(t.text), lambda t: v.start_page.retint(t.text),
                       v.agreement.apply_theme, v.browser.apply_theme):
            self.themeChanged.connect(follow)
        p.frameShown.connect(lambda i, _c: self.display.show(i))
        p.imageReady.connect(self._on_image)
        p.playingChanged.connect(v.transport.show_playing)
        p.playingChanged.connect(lambda on: on or self.display.refresh())  # the playhead exactly on the frame
        p.speedChanged.connect(v.transport.show_speed)
        p.speedChanged.connect(lambda _s: self.display.refresh())
        p.clockNote.connect(v.transport.note.setText)
        p.error.connect(lambda m: self.statusBar().showMessage(f"Decoding: {m}", 8000))
        v.video.resized = self._video_resized
        t = v.transport
        t.playClicked.connect(p.toggle)
        t.stepRequested.connect(p.step)
        t.jumpRequested.connect(p.jump_seconds)
        t.speedChosen.connect(p.set_speed)
        t.loopToggled.connect(self.controls.toggle_loop)
        s.labelsChanged.connect(self._on_labels)
        s.tracksChanged.connect(lambda _v: self.refresh_tracks())
        s.annotatorChanged.connect(lambda n: v.st_user.setText(f"annotator: {n}"))
        s.problem.connect(self.report_problem)
        a.marksChanged.connect(v.expr_panel.show_marks)
        a.armedChanged.connect(self.controls.show_armed)
        a.recordingChanged.connect(lambda r: v.st_rec.setText("● recording" if r else ""))
        a.message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        v.rec_button.toggled.connect(a.set_armed)
        v.mode_box.currentIndexChanged.connect(lambda i: self.controls.set_joystick_mode(MODES[i]))
        v.fill_box.currentIndexChanged.connect(lambda i: self.controls.set_fill_only(i == 1))
        for panel, clear_task in ((v.expr_panel, "expr"), (v.au_panel, "au")):
            panel.pressed.connect(a.press_expr if clear_task == "expr" else a.press_au)
            panel.released.connect(a.release_expr if clear_task == "expr" else a.release_au)
            panel.fillRequested.connect(a.fill_expr if clear_task == "expr" else a.fill_au)
            panel.clearRangeRequested.connect(lambda t=clear_task: a.clear_range(t))
        v.au_panel.absentByDefaultChanged.connect(lambda on: setattr(a, "absent_by_default", on))
        v.au_panel.intensityChanged.connect(lambda x: setattr(a, "au_intensity", x))
        v.browser.videoActivated.connect(self.show_video)
        v.browser.relocateRequested.connect(self.relocate)
        v.agreement.computeRequested.connect(self.agreement_runner.start)
        sp = v.start_page
        sp.openVideoRequested.connect(self.projects.ask_open_video)
        sp.openProjectRequested.connect(self.projects.ask_open_project)
        sp.openDemoRequested.connect(self.open_demo)
        sp.recentChosen.connect(self.open_project)
        self.extras.audioLoaded.connect(self._on_audio)
        self.extras.audioFailed.connect(lambda tok, m: self.statusBar().showMessage(f"Audio: {m}", 8000))
        self.extras.facesLoaded.connect(self._on_faces)
        self.pad.moved.connect(v.joystick.set_value)
        self.pad.statusChanged.connect(v.pad_status.setText)

    def attach_timeline(self) -> None:
        """Build the timeline (imports pyqtgraph) and connect it."""
        if self.views.timeline is not None:
            return
        from .widgets.timeline import Timeline

        tl = Timeline()
        tl.apply_theme(self.theme)
        self.themeChanged.connect(tl.apply_theme)
        self.views.timeline = tl
        self.views.docks["dock_timeline"].setWidget(tl)
        tl.seekRequested.connect(self.player.seek)
        tl.lanesChosen.connect(self.show_lanes_of)
        tl.set_au_expanded(self.settings.get("timeline/au_expanded", tl.au_expanded, bool))
        tl.auExpandedChanged.connect(lambda on: self.settings.set("timeline/au_expanded", on))
        self.annot.marksChanged.connect(tl.set_marks)
        from .engine.wiring import install_loop  # the engine's views need pyqtgraph too

        self.engine = install_loop(self.window_context)

    def start_gamepad(self) -> None:
        """SDL starts after the window is up (it costs a little start-up time)."""
        self.pad.start()

    # ------------------------------------------------------------------ start page
    def show_start_page(self, message: str = "") -> None:
        """The start page covers the window (menus and status bar stay) while no project is open."""
        sp = self.views.start_page
        sp.set_recent(self.settings.recent_projects())
        sp.show_message(message)
        self._place_start_page()
        sp.show()
        sp.raise_()

    def _place_start_page(self) -> None:
        top = self.menuBar().height() if self.menuBar().isVisible() else 0
        bottom = self.statusBar().height() if self.statusBar().isVisible() else 0
        self.views.start_page.setGeometry(0, top, self.width(), self.height() - top - bottom)

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self._place_start_page()

    def showEvent(self, e) -> None:
        super().showEvent(e)
        if self._fresh_layout:
            self._fresh_layout = False
            tab_left_column(self, self.views)
            self.default_layout()
        self._place_start_page()

    # ------------------------------------------------------------------ project and video (app/project_control.py)
    def set_project(self, project: Project) -> None:
        self.projects.set_project(project)

    def close_project(self) -> None:
        self.projects.close_project()

    def open_project(self, folder: str | Path) -> bool:
        return self.projects.open_project(folder)

    def open_demo(self) -> bool:
        return self.projects.open_demo()

    def open_video_file(self, path: str | Path) -> bool:
        return self.projects.open_video_file(path)

    def show_video(self, name: str) -> None:
        self.projects.show_video(name)

    def relocate(self, video: str | None) -> None:
        self.projects.relocate(video)

    def _on_audio(self, tok: int, samples, rate: int, env) -> None:
        if tok != self.extras.token:
            return
        self.player.set_audio(samples, rate)
        self.views.timeline.set_waveform(env)

    def _on_faces(self, tok: int, overlay: FaceOverlay) -> None:
        if tok == self.extras.token:
            self.faces = overlay
            self.show_overlay_state(overlay)

    def _forget_faces(self) -> None:
        self.faces = None
        self.show_overlay_state(None)

    def _leave_video(self) -> None:
        """Before another video is shown: recording off, the player closed, the marks, the fusion and the
        agreement reset."""
        self.annot.set_armed(False)
        self.player.close()
        self.annot.clear_marks()
        self.fusion.reset()
        self.agreement_runner.cancel()
        self.views.agreement.show_result(None, "Press Compute for this video.")

    def show_overlay_state(self, overlay: FaceOverlay | None) -> None:
        """The overlay action says whether this video has a face cache to draw from."""
        a = self.registry["overlay"]
        a.setEnabled(overlay is not None)
        a.setText("Face box and landmarks" if overlay is not None else
                  "Face box and landmarks (no face cache yet: training or pre-annotating makes it)")

    # ------------------------------------------------------------------ frames and labels
    def _on_image(self, i: int, frame) -> None:
        box = lm = None
        if self.faces is not None:
            box, lm = self.faces.at(i)
        e = self.session.project.videos.get(self.session.video) if self.session.project else None
        self.views.video.set_frame(i, frame, box, lm, (e.width, e.height) if e and e.width else None)
        self.player.display_size = self.views.video.display_size()

    def _video_resized(self) -> None:
        """A paused picture is decoded again at the new size (playback picks the size up by itself)."""
        self.player.display_size = self.views.video.display_size()
        self.player.refresh()

    def _on_labels(self, video: str, track: str, task: str, start: int, stop: int) -> None:
        if video != self.session.video:
            return
        self.views.timeline.labels_changed(track, task, start, stop)
        if start <= self.player.current < stop:
            self.display.refresh()
        self.coverage_timer.start()

    def refresh_tracks(self) -> None:
        self.tracks.refresh(self.menus.tracks)
        self.display.refresh()

    def show_lanes_of(self, name: str) -> None:
        """Lanes of another annotator's track (read only: edits always go to your own)."""
        self.tracks.lanes_of = None if name == self.session.annotator else name
        self.refresh_tracks()

    def _refresh_coverage(self) -> None:
        s = self.session
        if s.project is not None and s.video is not None:
            self.views.browser.update_coverage(s.project, s.annotator, s.video)

    def refresh_browser(self) -> None:
        self.views.browser.populate(self.session.project, self.session.annotator, self.session.video)

    # ------------------------------------------------------------------ commands from menus
    def gamepad_settings(self) -> None:
        if dialogs.GamepadDialog(self.pad, self).exec():
            self.settings.set("gamepad", self.pad.config.to_dict())

    def set_theme(self, name: str, remember: bool = True) -> None:
        """Apply a theme; ``remember``: the person chose it (saved for later starts)."""
        self.theme = apply_theme(QApplication.instance(), name)
        if remember:
            self.settings.theme = self.theme.name
        self.registry[f"theme_{self.theme.name}"].setChecked(True)
        self.themeChanged.emit(self.theme)  # the one way a theme reaches the widgets (see _wire)

    def show_shortcuts(self) -> None:
        d = dialogs.shortcuts_sheet(self, self.registry.shortcut_rows(), HOLD_KEY_ROWS, self.views.au_panel.aus)
        d.setAttribute(Qt.WA_DeleteOnClose)
        d.show()

    def about(self) -> None:
        dialogs.about(self)

    def save(self, quiet: bool = False) -> bool:
        p = self.session.project
        if p is None or p.readonly:
            return False
        self.annot.flush()
        try:
            p.save()
        except AffectTraceError as e:  # the journal keeps the work; say so and carry on
            self.statusBar().showMessage(f"Save failed (your edits are safe in the journal): {e}", 10000)
            return False
        if not quiet:
            self.statusBar().showMessage("Saved", 3000)
        try:
            self.refresh_browser()
        except AffectTraceError as e:
            self.statusBar().showMessage(str(e), 10000)
        return True

    def report_error(self, text: str) -> None:
        """A problem that stopped something (see app/notices.py)."""
        self.notices.error(text)

    def report_problem(self, text: str) -> None:
        """A problem that does not stop the work: a banner line."""
        self.notices.problem(text)

    @property
    def errors(self) -> list[str]:
        """Every problem reported to the user so far (scripts check it)."""
        return self.notices.errors

    def finish_work(self) -> None:
        """End a recording pass or a held paint key: their samples are written and become undo steps."""
        self.annot.set_armed(False)
        self.annot.finish_all()
        self.projects.remember_position()

    def quit_stopping_jobs(self) -> None:
        """Close without asking: a running job is stopped (a training run keeps its last checkpoint)."""
        self.stop_jobs_on_close = True
        self.close()

    def closeEvent(self, e) -> None:
        if not self.context.runner.confirm_close(self, (lambda: "stop") if self.stop_jobs_on_close else None):
            e.ignore()
            return
        self.finish_work()
        self.player.close()
        self.pad.stop()
        self.agreement_runner.shutdown()
        self.fusion.shutdown()
        self.team.shutdown()
        self.extras.shutdown(2000)  # a long audio decode is dropped: its result is no longer wanted
        self.settings.save_window(self.saveGeometry(), self.saveState(), list(self.views.docks))
        self.settings.set("gamepad", self.pad.config.to_dict())
        p = self.session.project
        if p is not None:
            try:
                self.save(quiet=True)
            finally:
                close_quietly(p)
        QApplication.instance().removeEventFilter(self.key_filter)
        super().closeEvent(e)

