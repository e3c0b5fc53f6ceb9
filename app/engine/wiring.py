"""The cooperative loop in the main window: one controller that plugs the engine into it.

- Engine menu: Train model… and the Training dock (app/engine/training.py), Pre-annotate…, and the
  Compare, Suggestions and Accept docks; Model on the timeline (app/engine/overlays.py).
- Annotate > Next suggested segment (Ctrl+N); Next disagreement (Shift+N) follows the timeline's
  agreement strip when it shows one (app/controls.py keeps the annotators' case).
- A jump asked for by a view goes to that video and frame; accepting uses the in/out marks.
- Before a job starts the project is saved, so the child process reads the labels as they are now
  (accepted and corrected ones included, for retraining); a model track it makes appears at once.
- Quitting while a job runs asks (app/jobs/runner.py); SIGINT/SIGTERM stop the job (a training run
  keeps its last checkpoint) and quit.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QScrollArea, QWidget

from ..jobs import Job
from . import install
from .accept import AcceptPanel
from .compare_view import CompareView
from .overlays import TimelineOverlays
from .preannotate import PreannotateDialog, Preannotator, imported_text
from .suggestions_view import SuggestionsView
from .train_memory import propose_after_accept

if TYPE_CHECKING:
    from ..context import WindowContext

NEXT_SUGGESTED_KEY = "Ctrl+N"
# Accept sits with the label panels (the left column's tabs would not fit their names at 1280 px)
TAB_WITH = {"training": "dock_timeline", "compare": "dock_timeline", "suggestions": "dock_project",
            "accept": "dock_expr"}


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a scroll area: a dock shorter than its content scrolls instead of growing the window."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.NoFrame)
    area.setWidget(widget)
    return area


class EngineLoop(QObject):
    def __init__(self, wctx: WindowContext) -> None:
        super().__init__(wctx.app.window)
        self.wctx, self.ctx = wctx, wctx.app
        ctx, player = wctx.app, wctx.player
        s = ctx.session
        self.menu, self.training = install(ctx)
        self.runner = ctx.runner
        self.pre = Preannotator(s, self.runner, self)
        self.compare = CompareView(s, ctx.theme())
        self.suggestions = SuggestionsView(s, current_frame=lambda: player.position)
        self.accept = AcceptPanel(s, self.runner, marked_range=wctx.marked_range)
        self.docks: dict[str, QDockWidget] = {"training": self.training.dock}
        for key, widget, title, area in (("compare", self.compare, "Compare", Qt.BottomDockWidgetArea),
                                         ("suggestions", self.suggestions, "Suggestions", Qt.LeftDockWidgetArea),
                                         ("accept", self.accept, "Accept", Qt.RightDockWidgetArea)):
            self.docks[key] = ctx.add_dock(scrolled(widget), title, key, area, TAB_WITH[key], hidden=True)
        self._place_training()
        reg, m = ctx.actions, self.menu
        m.addSeparator()
        self.pre_action = reg.add("engine.preannotate", "&Pre-annotate with a model…", self.open_preannotate,
                                  "Ctrl+Shift+P", m, tip="Run a trained model over videos: its model track "
                                  "appears on the timeline")
        m.addSeparator()
        for key, text in (("compare", "&Compare tracks"), ("suggestions", "&Suggestions: what to label next"),
                          ("accept", "&Accept model labels")):
            reg.add(f"engine.{key}", text, lambda _=False, k=key: self.show_dock(k), None, m)
        self.overlays = TimelineOverlays(wctx, self.compare, self.suggestions, m)
        wctx.controls.agreement = self.overlays.series
        self._add_next_suggested()
        self.compare.seekRequested.connect(self.seek)
        self.suggestions.seekRequested.connect(self.seek)
        self.pre.imported.connect(self._imported)
        self.pre.failed.connect(wctx.notices.error)
        self.accept.accepted.connect(self._accepted)
        self.runner.jobAdded.connect(self._job_added)
        self.runner.jobFinished.connect(self._job_finished)
        ctx.theme_changed.connect(self.compare.apply_theme)
        s.projectChanged.connect(self._enable)
        self._enable()

    def _add_next_suggested(self) -> None:
        """Annotate > Next suggested segment, placed after Next disagreement."""
        reg = self.ctx.actions
        a = reg.add("next_suggested", "Next suggested segment", self.next_suggested, NEXT_SUGGESTED_KEY,
                    "Annotate", tip="Go to the next of the segments most worth labelling (Suggestions)")
        menu = reg.menu("Annotate")
        items = menu.actions()
        after = items.index(reg["next_disagreement"]) + 1
        if items[after] is not a:
            menu.removeAction(a)
            menu.insertAction(items[after], a)

    def _enable(self) -> None:
        self.pre_action.setEnabled(self.ctx.session.project is not None)

    def say(self, text: str, ms: int = 6000) -> None:
        self.ctx.window.statusBar().showMessage(text, ms)

    def _place_training(self) -> None:
        """The Training dock (made by app/engine/training.py) scrolls when short, and goes where it reads
        best with the video and joystick in view: a tab beside the timeline (unless it was moved before)."""
        d = self.training.dock
        d.setWidget(scrolled(self.training.panel))
        self.wctx.place_dock(d, Qt.BottomDockWidgetArea, TAB_WITH["training"])

    def show_dock(self, key: str) -> QDockWidget:
        d = self.docks[key]
        d.show()
        d.raise_()
        return d

    # ------------------------------------------------------------------ actions
    def open_preannotate(self) -> PreannotateDialog | None:
        s = self.ctx.session
        if s.project is None:
            return None
        dlg = PreannotateDialog(s, self.pre, selected=self.wctx.views.browser.selected(), parent=self.ctx.window)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def next_suggested(self) -> None:
        s, view = self.ctx.session, self.suggestions
        if s.project is None or s.video is None:
            return
        if view.video != s.video:  # nothing computed for this video yet: now, then go
            view.suggest(then=self._go_next_suggested)
            return
        self._go_next_suggested()

    def _go_next_suggested(self) -> None:
        if self.suggestions.next_suggested() is None:
            self.say("No suggestion on this video (Engine > Suggestions)")

    def seek(self, video: str, frame: int) -> None:
        """A view's jump: that video (shown first when another one is), that frame."""
        if video != self.ctx.session.video:
            self.wctx.show_video(video)
        self.wctx.player.seek(frame)

    # ------------------------------------------------------------------ jobs
    def _job_added(self, _job: Job) -> None:
        """The child reads the project from disk: save what is in memory first (the journal covers the rest)."""
        self.wctx.save_quietly()

    def _job_finished(self, job: Job) -> None:
        if job.command in ("faces", "train") and job.state == "finished":
            self.wctx.reload_faces()  # the job may have made the shown video's face cache
        if job.command == "train" and job.state == "finished" and job.run_info:
            self.say(f"Run {job.run_info.get('run_id', '')} finished: Engine > Pre-annotate runs it over videos",
                     10000)

    def _accepted(self, text: str) -> None:
        """Say what was accepted; the next Train dialog proposes the track that holds it, fine-tuned from the
        run that made the model track."""
        self.say(text)
        plan, p = self.accept.last_plan, self.ctx.session.project
        if plan is None or p is None or plan.model not in p.track_names(plan.video):
            return
        run_id = p.track_source(plan.video, plan.model).run_id
        propose_after_accept(self.ctx.settings, p.folder, plan.track, run_id)

    def _imported(self, tracks: list) -> None:
        self.say(f"Pre-annotation done: {imported_text(tracks)}", 20000)
        here = [n for v, n in tracks if v == self.ctx.session.video]
        if here:
            self.overlays.choose_model(here[-1])


def install_loop(wctx: WindowContext) -> EngineLoop:
    """Plug the engine into the main window (once, after its menus exist)."""
    return EngineLoop(wctx)
