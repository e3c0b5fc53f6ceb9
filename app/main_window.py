"""The main window: video and transport in the centre, docks for the joystick, expression and AU
panels, timeline, project browser and agreement. It wires views to the session and the player; the
work itself lives in core and in the small controllers beside this file."""
from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox

from core.errors import AffectTraceError
from core.labels import EXPRESSIONS, au_description
from core.tracks import TrackKind

from . import dialogs, layout
from .actions import build_menus
from .agreement_runner import AgreementRunner
from .annotate import AnnotationController, frame_labels
from .input.gamepad import GamepadConfig, GamepadInput
from .key_filter import HoldKeyFilter
from .keys import AU_KEYS
from .navigation import next_disagreement, next_unlabelled
from .opening import folder_for_video, open_or_create_for_video
from .player import Player
from .session import Session
from .settings import Settings, default_annotator
from .themes import apply_theme, theme
from .video_loader import VideoExtrasLoader
from .widgets.agreement_panel import fused_track
from .widgets.joystick import JoystickField
from .widgets.transport import fmt_time

AUTOSAVE_MS = 60_000


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, interactive: bool = True, lazy: bool = False) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.interactive = interactive
        self.setWindowTitle("AffectTrace")
        self.session = Session(self)
        self.player = Player(self)
        self.joystick = JoystickField()
        self.annot = AnnotationController(self.session, self.player, self.joystick, self)
        self.extras = VideoExtrasLoader(self)
        self.faces = None
        self.fused = None
        self.jump_task = "va"
        self.lanes_of: str | None = None  # whose labels the timeline lanes show (None: the annotator's own)
        self.theme = theme(self.settings.theme)
        layout.build_central(self)
        layout.build_docks(self)
        self.actions_ = build_menus(self)
        layout.build_status(self)
        self._wire()
        self.pad = GamepadInput(GamepadConfig.from_dict(self.settings.get("gamepad", {}) or {}), self)
        self.pad.moved.connect(self.joystick.set_value)
        self.pad.statusChanged.connect(self.pad_status.setText)
        self.key_filter = HoldKeyFilter(self, self.annot, lambda: len(self.au_panel.aus))
        QApplication.instance().installEventFilter(self.key_filter)
        self.autosave = QTimer(self)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(lambda: self.save(quiet=True))
        self.autosave.start()
        self.timeline = None
        if not lazy:
            self.attach_timeline()
        self.set_theme(self.settings.theme)
        self.resize(1440, 900)
        geo, state = self.settings.window_geometry(), self.settings.window_state()
        if geo is not None:
            self.restoreGeometry(geo)
        if state is None or not self.restoreState(state):
            self.default_layout()

    def default_layout(self) -> None:
        layout.default_layout(self)
        self._refresh_recent()

    # ------------------------------------------------------------------ layout
    def _wire(self) -> None:
        p, s, a = self.player, self.session, self.annot
        p.frameShown.connect(self._on_frame)
        p.imageReady.connect(self._on_image)
        p.playingChanged.connect(self.transport.show_playing)
        p.speedChanged.connect(self.transport.show_speed)
        p.clockNote.connect(self.transport.note.setText)
        p.error.connect(lambda m: self.statusBar().showMessage(f"Decoding: {m}", 8000))
        t = self.transport
        t.playClicked.connect(p.toggle)
        t.stepRequested.connect(p.step)
        t.jumpRequested.connect(p.jump_seconds)
        t.speedChosen.connect(p.set_speed)
        t.loopToggled.connect(self.toggle_loop)
        s.labelsChanged.connect(self._on_labels)
        s.tracksChanged.connect(lambda _v: self._refresh_tracks())
        s.annotatorChanged.connect(lambda n: self.st_user.setText(f"annotator: {n}"))
        a.marksChanged.connect(self.expr_panel.show_marks)
        a.armedChanged.connect(self._on_armed)
        a.recordingChanged.connect(lambda r: self.st_rec.setText("● recording" if r else ""))
        a.message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        self.rec_button.toggled.connect(a.set_armed)
        self.mode_box.currentIndexChanged.connect(lambda i: self.set_joystick_mode(("2d", "valence", "arousal")[i]))
        self.fill_box.currentIndexChanged.connect(lambda i: self.set_fill_only(i == 1))
        self.expr_panel.pressed.connect(a.press_expr)
        self.expr_panel.released.connect(a.release_expr)
        self.expr_panel.fillRequested.connect(a.fill_expr)
        self.expr_panel.clearRangeRequested.connect(lambda: a.clear_range("expr"))
        self.au_panel.pressed.connect(a.press_au)
        self.au_panel.released.connect(a.release_au)
        self.au_panel.fillRequested.connect(a.fill_au)
        self.au_panel.clearRangeRequested.connect(lambda: a.clear_range("au"))
        self.au_panel.absentByDefaultChanged.connect(lambda on: setattr(a, "absent_by_default", on))
        self.au_panel.intensityChanged.connect(lambda v: setattr(a, "au_intensity", v))
        self.browser.videoActivated.connect(self.show_video)
        self.browser.relocateRequested.connect(self.relocate)
        self.agreement_runner = AgreementRunner(self.session, self.agreement, self)
        self.agreement.computeRequested.connect(self.compute_agreement)
        self.agreement.showFusedChanged.connect(self.show_fused)
        self.agreement.saveFusedRequested.connect(self.save_fused)
        self.extras.audioLoaded.connect(self._on_audio)
        self.extras.audioFailed.connect(lambda tok, m: self.statusBar().showMessage(f"Audio: {m}", 8000))
        self.extras.facesLoaded.connect(self._on_faces)

    def attach_timeline(self) -> None:
        """Build the timeline (imports pyqtgraph) and connect it."""
        if self.timeline is not None:
            return
        from .widgets.timeline import Timeline

        self.timeline = Timeline()
        self.timeline.apply_theme(self.theme)
        self.d_timeline.setWidget(self.timeline)
        self.timeline.seekRequested.connect(self.player.seek)
        self.timeline.lanesChosen.connect(self.show_lanes_of)
        self.annot.marksChanged.connect(self.timeline.set_marks)

    def start_gamepad(self) -> None:
        """SDL starts after the window is up (it costs a little start-up time)."""
        self.pad.start()

    # ------------------------------------------------------------------ project and video
    def set_project(self, project) -> None:
        self.attach_timeline()
        self.player.close()
        old = self.session.project
        self.session.set_project(project)
        if old is not None and old is not project:
            _close_quietly(old)
        self.fused = None
        self.settings.add_recent(project.folder)
        self._refresh_recent()
        self.setWindowTitle(f"AffectTrace — {project.name}" + ("  [read-only]" if project.readonly else ""))
        self.au_panel.set_aus(tuple(project.au_set.aus))
        self._show_banner(project)
        if not self.session.annotator:
            self.choose_annotator_at_start()
        self._refresh_browser()
        first = next(iter(project.videos), None)
        last = self.settings.get(f"last_video/{project.folder}")
        name = last if last in project.videos else first
        if name is not None:
            self.show_video(name)

    def _show_banner(self, project) -> None:
        notes = []
        if project.readonly:
            notes.append(f"Read-only: this project is open elsewhere ({project.lock_holder or 'another process'}). "
                         "You can look, but labels cannot be changed.")
        if getattr(project, "recovered", 0):
            notes.append(f"Recovered {project.recovered} unsaved edit(s) from the journal after an unclean exit; "
                         "they are shown below and will be kept at the next save.")
        for w in getattr(project, "warnings", [])[:3]:
            notes.append(str(w))
        missing = [v for v in project.videos if project.is_missing(v)]
        if missing:
            notes.append(f"Media missing for {len(missing)} video(s): right-click in the Project list to relocate.")
        self.banner.setText("\n".join(notes))
        self.banner.setVisible(bool(notes))

    def open_project(self, folder: str | Path) -> bool:
        from core.project import open_project

        try:
            project = open_project(folder)
        except AffectTraceError as e:
            self._error(str(e))
            return False
        self.set_project(project)
        return True

    def open_video_file(self, path: str | Path) -> bool:
        """Create (or reopen) the project beside a video, asking first when interactive."""
        path = Path(path)
        if self.interactive and not dialogs.confirm_project_for_video(self, path, folder_for_video(path)):
            return False
        try:
            project, name = open_or_create_for_video(path)
        except AffectTraceError as e:
            self._error(str(e))
            return False
        if name is not None:
            self.settings.set(f"last_video/{project.folder}", name)
        self.set_project(project)
        return True

    def show_video(self, name: str) -> None:
        s, p = self.session, self.session.project
        if p is None or name not in p.videos:
            return
        self.annot.set_armed(False)
        self.player.close()
        self.annot.clear_marks()
        self.fused = None
        self.agreement.show_fused.setChecked(False)
        self.agreement_runner.cancel()
        self.agreement.show_result(None, "Press Compute for this video.")
        s.set_video(name)
        self.settings.set(f"last_video/{p.folder}", name)
        e = p.videos[name]
        fps = Fraction(e.fps)
        self.timeline.set_video(e.frame_count, float(fps))
        try:
            self._refresh_tracks()
        except AffectTraceError as err:  # e.g. an unreadable track file: say so, keep the window usable
            self._error(str(err))
        self.browser.select(name)
        self.faces = None
        if p.is_missing(name):
            self.video.clear(f"Media not found: {p.media_path(name)}\nRight-click the video in the Project list "
                             "to relocate it. Labels can still be viewed on the timeline.")
            self.transport.note.setText("media missing")
            return
        from core.media import MediaReader

        media = p.media_path(name)
        self.player.open(lambda: MediaReader(media, cache_frames=8, readahead=False), e.frame_count, fps,
                         has_audio_track=bool(e.has_audio))
        cache = p.cache_dir("faces") / f"{name}.h5"
        self.extras.load(media, bool(e.has_audio), float(e.duration_s), e.frame_count, float(fps), cache)

    def _on_audio(self, tok: int, samples, rate: int, env) -> None:
        if tok != self.extras.token:
            return
        self.player.set_audio(samples, rate)
        self.timeline.set_waveform(env)

    def _on_faces(self, tok: int, overlay) -> None:
        if tok == self.extras.token:
            self.faces = overlay

    def relocate(self, video: str | None) -> None:
        p = self.session.project
        if p is None or video is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, f"Where is the media of {video}?", str(p.folder),
                                              "Video (*.mp4 *.mov *.avi *.mkv *.ts *.webm);;All files (*)")
        if not path:
            return
        try:
            p.relocate(video, path)
        except AffectTraceError as e:
            return self._error(str(e))
        self._refresh_browser()
        self._show_banner(p)
        self.show_video(video)

    # ------------------------------------------------------------------ annotator
    def choose_annotator_at_start(self) -> None:
        p = self.session.project
        remembered = self.settings.annotator
        name = remembered or default_annotator()
        if self.interactive and not remembered:
            name = dialogs.choose_annotator(self, list(p.annotators) if p else [], default_annotator()) or name
        self._set_annotator(name)

    def ask_annotator(self) -> None:
        p = self.session.project
        name = dialogs.choose_annotator(self, list(p.annotators) if p else [], self.session.annotator)
        if name:
            self._set_annotator(name)

    def _set_annotator(self, name: str) -> None:
        self.annot.set_armed(False)
        self.session.set_annotator(name)
        self.settings.annotator = name
        self._refresh_tracks()
        self._refresh_browser()

    # ------------------------------------------------------------------ frames and labels
    def _on_image(self, i: int, frame) -> None:
        box = lm = None
        if self.faces is not None:
            box, lm = self.faces.at(i)
        e = self.session.project.videos.get(self.session.video) if self.session.project else None
        self.video.set_frame(i, frame, box, lm, (e.width, e.height) if e and e.width else None)
        self.player.display_size = self.video.display_size()

    def _video_resized(self) -> None:
        """A paused picture is decoded again at the new size (playback picks the size up by itself)."""
        self.player.display_size = self.video.display_size()
        self.player.refresh()

    def _on_frame(self, i: int, _contiguous: bool) -> None:
        n, fps = self.player.n_frames, float(self.player.fps)
        self.transport.show_position(i, n, fps)
        if self.player.playing and i % 2:  # the timeline and panels need not redraw at every frame
            return
        self.timeline.set_playhead(i)
        if self.player.playing and i % 4:
            return
        self._show_frame_labels(i)

    def _show_frame_labels(self, i: int) -> None:
        s = self.session
        own = s.track(create=False) if s.project is not None and s.video is not None else None
        lab = frame_labels(own, i)
        self.expr_panel.show_value(lab["expr"])
        self.au_panel.show_values(lab["au"] or None)
        va = "—" if lab["va"] is None else f"{lab['va'][0]:+.2f} / {lab['va'][1]:+.2f}"
        ex = "—" if lab["expr"] is None else EXPRESSIONS[lab["expr"]]
        aus = [a for a, v in zip(self.au_panel.aus, lab["au"]) if v == 1]
        fps = float(self.player.fps)
        self.st_frame.setText(f"frame {i}  ·  {fmt_time(i / fps)}  ·  {fps:.3g} fps  ·  {self.player.speed:g}x")
        self.st_labels.setText(f"VA {va}  ·  expr {ex}  ·  AU {' '.join(aus) if aus else '—'}")

    def _on_labels(self, video: str, track: str, task: str, start: int, stop: int) -> None:
        if video != self.session.video:
            return
        self.timeline.labels_changed(track, task, start, stop)
        i = self.player.current
        if start <= i < stop and not self.player.playing:
            self._show_frame_labels(i)

    def _refresh_tracks(self) -> None:
        s = self.session
        if s.video is None:
            return
        own = s.track(create=s.can_edit())
        tracks = s.tracks()
        if self.fused is not None:
            tracks.append(self.fused)
        self.timeline.set_tracks(tracks)
        lanes = self.lanes_of if self.lanes_of in s.project.track_names(s.video) else None
        self.timeline.set_lane_track(s.project.track(s.video, lanes) if lanes else own)
        self._tracks_menu(tracks)
        if self.player.current >= 0:
            self._show_frame_labels(self.player.current)

    def show_lanes_of(self, name: str) -> None:
        """Lanes of another annotator's track (read only: edits always go to your own)."""
        self.lanes_of = None if name == self.session.annotator else name
        self._refresh_tracks()

    def _tracks_menu(self, tracks) -> None:
        m = self.tracks_menu
        m.clear()
        for t in tracks:
            kind = {TrackKind.HUMAN: "", TrackKind.MODEL: " (model)", TrackKind.FUSED: " (fused)"}[t.source.kind]
            a = QAction(t.name + kind, m)
            a.setCheckable(True)
            a.setChecked(self.timeline.visible.get(t.name, True))
            a.toggled.connect(lambda on, n=t.name: self.timeline.set_visible(n, on))
            m.addAction(a)

    def _refresh_browser(self) -> None:
        self.browser.populate(self.session.project, self.session.annotator, self.session.video)

    # ------------------------------------------------------------------ commands from menus
    def set_joystick_mode(self, mode: str) -> None:
        if self.annot.va_pass is not None:
            self.annot.set_armed(False)
        self.joystick.set_mode(mode)
        i = ("2d", "valence", "arousal").index(mode)
        self.mode_box.blockSignals(True)
        self.mode_box.setCurrentIndex(i)
        self.mode_box.blockSignals(False)
        self.actions_[f"mode_{mode}"].setChecked(True)

    def set_fill_only(self, on: bool) -> None:
        self.annot.fill_only_unlabelled = bool(on)
        self.fill_box.blockSignals(True)
        self.fill_box.setCurrentIndex(1 if on else 0)
        self.fill_box.blockSignals(False)
        self.actions_["fill_only"].setChecked(bool(on))

    def _on_armed(self, armed: bool) -> None:
        for w in (self.rec_button, self.actions_["arm"]):
            w.blockSignals(True)
            w.setChecked(armed)
            w.blockSignals(False)
        self.rec_button.setText("● Armed: plays record" if armed else "● Arm recording (R)")
        self.rec_button.setStyleSheet("QPushButton { color: #e53935; font-weight: 600; }" if armed else "")

    def toggle_loop(self, on: bool | None = None) -> None:
        on = bool(on)
        r = self.annot.marked_range()
        if on and r is None:
            self.statusBar().showMessage("Mark in (I) and out (O) to loop a range", 5000)
            on = False
        self.player.set_loop(*(r[0], r[1] - 1) if on else (None, None))
        for w in (self.transport.loop, self.actions_["loop"]):
            w.blockSignals(True)
            w.setChecked(on)
            w.blockSignals(False)

    def set_audio_enabled(self, on: bool) -> None:
        self.player.use_audio = bool(on)
        self.player._update_note()

    def next_unlabelled(self) -> None:
        t = self.session.track(create=False)
        if t is None:
            return
        i = next_unlabelled(t, self.jump_task, self.player.current)
        if i is None:
            self.statusBar().showMessage(f"Every frame is labelled for {self.jump_task}", 5000)
        else:
            self.player.seek(i)

    def next_disagreement(self) -> None:
        tracks = self.session.human_tracks()
        if len(tracks) < 2:
            return self.statusBar().showMessage("Needs two or more annotators on this video", 5000)
        i = next_disagreement(tracks, self.jump_task, self.player.current)
        if i is None:
            self.statusBar().showMessage("The annotators agree everywhere", 5000)
        else:
            self.player.seek(i)

    def compute_agreement(self) -> None:
        """Start computing the agreement panel's tables in the background (see agreement_runner)."""
        self.agreement_runner.start()

    def show_fused(self, on: bool) -> None:
        tracks = self.session.human_tracks()
        self.fused = fused_track(tracks, self.session.video) if on and len(tracks) >= 2 else None
        self._refresh_tracks()

    def save_fused(self) -> None:
        tracks = self.session.human_tracks()
        if len(tracks) < 2 or not self.session.can_edit():
            return self.statusBar().showMessage("Needs two annotators and a writable project", 5000)
        self.session.project.put_track(fused_track(tracks, self.session.video))
        self.fused = None
        self.agreement.show_fused.setChecked(False)
        self._refresh_tracks()

    def gamepad_settings(self) -> None:
        if dialogs.GamepadDialog(self.pad, self).exec():
            self.settings.set("gamepad", self.pad.config.to_dict())

    def set_theme(self, name: str) -> None:
        self.theme = apply_theme(QApplication.instance(), name)
        self.settings.theme = name
        if self.timeline is not None:
            self.timeline.apply_theme(self.theme)
        self.actions_[f"theme_{name}"].setChecked(True)

    def set_overlay(self, on: bool) -> None:
        self.video.show_overlay = bool(on)
        self.video.update()

    def set_anchors(self, on: bool) -> None:
        self.joystick.show_anchors = bool(on)
        self.joystick.update()

    def show_shortcuts(self) -> None:
        aus = [(f"{AU_KEYS[k]} (hold)", f"{a} {au_description(a)}") for k, a in enumerate(self.au_panel.aus)
               if k < len(AU_KEYS)]
        d = dialogs.shortcuts_sheet(self, aus)
        d.setAttribute(Qt.WA_DeleteOnClose)
        d.show()

    def about(self) -> None:
        QMessageBox.about(self, "About AffectTrace", "AffectTrace: annotate valence-arousal, expressions and "
                          "action units frame by frame; train and run multi-task affect models.")

    def ask_open_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open project folder")
        if folder:
            self.open_project(folder)

    def ask_open_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open video", "", "Video (*.mp4 *.mov *.avi *.mkv *.ts *.webm)")
        if path:
            self.open_video_file(path)

    def _refresh_recent(self) -> None:
        m = self.recent_menu
        m.clear()
        for folder in self.settings.recent_projects():
            m.addAction(folder, lambda f=folder: self.open_project(f))
        m.setEnabled(bool(m.actions()))

    def save(self, quiet: bool = False) -> bool:
        p = self.session.project
        if p is None or p.readonly:
            return False
        if self.annot.va_pass is not None:
            self.annot.va_pass.flush()
        try:
            p.save()
        except AffectTraceError as e:  # the journal keeps the work; say so and carry on
            self.statusBar().showMessage(f"Save failed (your edits are safe in the journal): {e}", 10000)
            return False
        if not quiet:
            self.statusBar().showMessage("Saved", 3000)
        try:
            self._refresh_browser()
        except AffectTraceError as e:
            self.statusBar().showMessage(str(e), 10000)
        return True

    def _error(self, text: str) -> None:
        if self.interactive:
            dialogs.warn(self, text)
        else:  # nobody to ask: scripts (--screenshot) read it on stderr
            print(f"affecttrace-gui: {text}", file=sys.stderr)
        self.statusBar().showMessage(text, 10000)

    def closeEvent(self, e) -> None:
        self.annot.set_armed(False)
        for key in list(self.annot.paint):
            self.annot._finish_paint(key)
        self.player.close()
        self.pad.stop()
        self.agreement_runner.shutdown()
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.set("gamepad", self.pad.config.to_dict())
        p = self.session.project
        if p is not None:
            try:
                self.save(quiet=True)
            finally:
                _close_quietly(p)
        QApplication.instance().removeEventFilter(self.key_filter)
        super().closeEvent(e)


def _close_quietly(project) -> None:
    try:
        project.close()
    except AffectTraceError:
        pass
