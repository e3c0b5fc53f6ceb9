"""The model side on the timeline, beside the human lanes:

- the chosen model track (Engine > Model on the timeline; default the video's newest) with its
  confidence: a band of ± its VA uncertainty around its valence and arousal curves, and its expression
  and AU lanes shaded by probability (app/widgets/timeline_lanes.confidence_lanes);
- an agreement strip: the sliding-window agreement (core.compare.agreement_series) of the shown track
  with its reference, for the task of Annotate > Jump by task, so "next disagreement" walks what is drawn.
  The pair is the compare view's selected row on this video, else the model track against
  core.suggest.default_reference (fused, else the most labelled annotator; never an empty track);
- a suggestions strip: the score of the Suggestions view (core.suggest), kept up to date here.

Agreement and suggestions are computed on copies of the tracks in a worker thread (app/background.py):
for every video shown (the timeline drops strips on a video change), when model tracks come or go,
and after labels change (once the edits pause; while the video plays, when it stops).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from core.agreement.report import video_fps
from core.compare import AgreementSeries, agreement_series, find_track
from core.modeltracks import model_track_names
from core.suggest import Suggestions, default_reference, suggest_from, suggestion_inputs
from core.tracks import Track

from .. import resources
from ..background import Background
from ..widgets.timeline_lanes import LaneColours, confidence_lanes

if TYPE_CHECKING:
    from ..context import WindowContext
    from .compare_view import CompareView
    from .suggestions_view import SuggestionsView

AGREE, SUGGEST, MODEL = "agreement", "suggested", "model:"  # strip keys (MODEL: a prefix)
BANDS = {"valence": "model:valence", "arousal": "model:arousal"}
BAND_ALPHA = {"light": 60, "dark": 120}  # the uncertainty band reads as clearly on either background
LABELS_DELAY_MS = 500  # agreement and suggestions follow edits once they pause this long
TASK_TEXT = {"va": "VA (CCC)", "expr": "expression (F1)", "au": "AUs (F1)"}
LANE_TITLES = {"expression": "expr"}  # row titles fit the lanes' 84 px axis


@dataclass(frozen=True)
class Pair:
    """The comparison on the timeline: track names of one video, and the task."""

    video: str
    track: str
    reference: str
    task: str

    def describe(self) -> str:
        return f"{self.track} vs {self.reference}, {TASK_TEXT[self.task]}"


@dataclass
class _Work:
    """Copies of what one background computation reads."""

    pair: Pair | None
    track: Track | None
    reference: Track | None
    window: int
    suggest: object | None  # core.suggest.SuggestionInputs, copied
    count: int
    segment_s: float


def relative(score: np.ndarray) -> np.ndarray:
    """Scores stretched to [0, 1] between the video's lowest and highest, so the best segments stand out."""
    ok = np.isfinite(score)
    if not ok.any():
        return score
    lo, hi = float(score[ok].min()), float(score[ok].max())
    return (score - lo) / (hi - lo) if hi > lo else np.where(ok, 0.0, np.nan)


def _compute(w: _Work) -> tuple[np.ndarray | None, Suggestions | None]:
    values = None
    if w.pair is not None:
        values = agreement_series(w.track, w.reference, w.pair.task, w.window).values
    sug = suggest_from(w.suggest, w.count, segment_s=w.segment_s) if w.suggest is not None else None
    return values, sug


class TimelineOverlays(QObject):
    drawn = Signal()  # strips and bands show the last computation (tests wait on it)

    def __init__(self, ctx: WindowContext, compare: CompareView, suggestions: SuggestionsView, menu: QMenu) -> None:
        super().__init__(ctx.app.window)
        self.ctx, self.session, self.compare, self.view = ctx, ctx.app.session, compare, suggestions
        self.choice: str | None = None  # the model chosen in the menu; None: the newest; '': none
        self.override: tuple[str, str] | None = None  # (track, reference) specs of the compare view's row
        self.pair: Pair | None = None
        self.agreement: np.ndarray | None = None  # the drawn strip's values, for ``pair``
        self._shown: set[tuple[str, str]] = set()  # (video, model) whose curves were switched on
        self._deferred = False
        self.bg: Background = Background(self)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.refresh)
        self.models_menu = menu.addMenu("Model on the &timeline")
        self.models_group = QActionGroup(self)
        s = self.session
        s.videoChanged.connect(self._video_changed)
        s.tracksChanged.connect(lambda _v: self.schedule())
        s.labelsChanged.connect(self._labels_changed)
        s.annotatorChanged.connect(lambda _n: self.schedule())
        ctx.player.playingChanged.connect(self._playing_changed)
        ctx.app.theme_changed.connect(lambda _t: self.schedule())
        compare.pairChosen.connect(self.choose_pair)
        compare.window_s.valueChanged.connect(lambda _v: self.schedule())
        suggestions.resultShown.connect(self._draw_suggestions)
        for task in TASK_TEXT:
            ctx.app.actions[f"jump_{task}"].triggered.connect(lambda _on=False: self.schedule())
        tl = ctx.views.timeline
        tl.auExpandedChanged.connect(lambda _on: self.schedule())
        tl.curvesShown.connect(lambda _name, _on: self.schedule())  # the band follows its curve

    # ------------------------------------------------------------------ choices
    def model_name(self) -> str | None:
        """The model track shown with its confidence on the current video, or None."""
        s = self.session
        names = model_track_names(s.project, s.video) if s.project is not None and s.video else []
        if self.choice is not None and (self.choice == "" or self.choice in names):
            return self.choice or None
        return names[-1] if names else None

    def choose_model(self, name: str) -> None:
        """Show ``name`` ('' for none) on the timeline, compared with the default reference (the compare
        view's row chosen before is dropped); the Suggestions view follows."""
        self.choice, self.override = name, None
        if name:
            self.view.model.setCurrentText(name)
        self.schedule()

    def choose_pair(self, track: str, reference: str, task: str, video: str) -> None:
        """The compare view's row: its track and reference on the timeline, its task for the jumps."""
        if video != self.session.video:
            return
        self.override = (track, reference)
        self.ctx.app.actions[f"jump_{task}"].setChecked(True)
        self.ctx.controls.jump_task = task
        self.schedule()

    def current_pair(self) -> Pair | None:
        s = self.session
        p, v = s.project, s.video
        if p is None or v is None:
            return None
        task = self.ctx.controls.jump_task
        if self.override is not None:
            a, b = (find_track(p, v, spec) for spec in self.override)
            if a and b:
                return Pair(v, a, b, task)
        model = self.model_name()
        ref = default_reference(p, v, s.annotator or None) if model else None
        return Pair(v, model, ref, task) if ref and ref != model else None

    def window(self) -> int:
        s = self.session
        return max(2, round(self.compare.window_s.value() * video_fps(s.project, s.video)))

    def series(self) -> AgreementSeries | None:
        """The agreement of the timeline's pair now (for "next disagreement"); None without a pair."""
        pair = self.current_pair()
        if pair is None:
            return None
        p = self.session.project
        return agreement_series(p.track(pair.video, pair.track), p.track(pair.video, pair.reference), pair.task,
                                self.window())

    # ------------------------------------------------------------------ when to redraw
    def schedule(self, delay_ms: int = 0) -> None:
        self.timer.start(delay_ms)

    def _video_changed(self, _video: str) -> None:
        self.override, self.pair, self.agreement = None, None, None
        self.bg.cancel()
        self.schedule()  # after the window has set the timeline to the new video

    def _labels_changed(self, video: str, *_rest: object) -> None:
        if video != self.session.video:
            return
        if self.ctx.player.playing:
            self._deferred = True
        else:
            self.schedule(LABELS_DELAY_MS)

    def _playing_changed(self, playing: bool) -> None:
        if not playing and self._deferred:
            self._deferred = False
            self.schedule(LABELS_DELAY_MS)

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        tl, s = self.ctx.views.timeline, self.session
        self._refill_menu()
        if tl is None or s.project is None or s.video is None or tl.n_frames == 0:
            return
        model = self.model_name()
        track = s.project.track(s.video, model) if model else None
        if track is not None and (s.video, model) not in self._shown:
            self._shown.add((s.video, model))
            tl.set_visible(model, True)
        lanes = confidence_lanes(track, self._lane_colours(), tl.au_expanded) if track is not None else []
        pair = self.current_pair()
        if pair != self.pair:
            self.pair, self.agreement = pair, None
        asked = self.view.video == s.video and self.view.score is not None
        suggest = model is not None or asked  # suggestions once there is a model (or the view was asked)
        keys = [(MODEL + name, f"model: {LANE_TITLES.get(name, name)}") for name, _c in lanes]
        keys += [(AGREE, "agreement")] if pair else []
        keys += [(SUGGEST, "suggested")] if asked else []
        self._order_strips(keys)
        t = self.ctx.app.theme()  # what the strips' colours mean, in the legend (in this theme's colours)
        tl.set_strip_legend(AGREE, [(t.disagree, "disagree"), (t.agree, "agree")])
        tl.set_strip_legend(SUGGEST, [(t.marks, "worth labelling")])
        for (key, _title), (_name, colours) in zip(keys, lanes):
            tl.set_strip_colours(key, colours)
        self._draw_agreement()
        self._draw_suggestions()
        self._draw_bands(track)
        if pair is None and not suggest:
            self.drawn.emit()
            return
        self.bg.submit(lambda w=self._work(suggest): _compute(w), self._computed)

    def _work(self, suggest: bool) -> _Work:
        s, pair = self.session, self.pair
        p = s.project
        model, count, seconds = self.view.params()
        inputs = suggestion_inputs(p, s.video, model, annotator=s.annotator or None).copied() if suggest else None
        return _Work(pair, p.track(s.video, pair.track).copy() if pair else None,
                     p.track(s.video, pair.reference).copy() if pair else None, self.window(), inputs, count, seconds)

    def _computed(self, result: tuple[np.ndarray | None, Suggestions | None] | None, error: str) -> None:
        if error:
            self.ctx.app.window.statusBar().showMessage(f"Timeline strips: {error}", 8000)
            return
        values, sug = result
        self.agreement = values
        self._draw_agreement()
        if sug is not None:
            self.view.show_result(sug, self.session.video)  # draws the suggestions strip (resultShown)
        self.drawn.emit()

    def _draw_agreement(self) -> None:
        tl = self.ctx.views.timeline
        if self.agreement is not None and AGREE in tl.strips():
            t = self.ctx.app.theme()
            tl.set_strip_values(AGREE, np.clip(self.agreement, 0.0, 1.0), low=t.disagree, high=t.agree)

    def _draw_suggestions(self) -> None:
        tl, s = self.ctx.views.timeline, self.session
        if tl is None or tl.n_frames == 0:
            return
        score = self.view.score if self.view.video == s.video else None
        if score is None:
            tl.remove_strip(SUGGEST)
            return
        if SUGGEST not in tl.strips():
            tl.add_strip(SUGGEST, "suggested", self._tooltip(SUGGEST))
        t = self.ctx.app.theme()
        tl.set_strip_values(SUGGEST, relative(score), low=t.unlabelled, high=t.marks)

    def _order_strips(self, keys: list[tuple[str, str]]) -> None:
        """Make this module's strips exactly ``keys``, in that order (others' strips are left alone)."""
        tl = self.ctx.views.timeline
        mine = [k for k in tl.strips() if k in (AGREE, SUGGEST) or k.startswith(MODEL)]
        if mine == [k for k, _t in keys]:
            return
        for k in mine:
            tl.remove_strip(k)
        for key, title in keys:
            tl.add_strip(key, title, self._tooltip(key))

    def _tooltip(self, key: str) -> str:
        if key == AGREE and self.pair is not None:
            return (f"Agreement of {self.pair.describe()} over a {self.compare.window_s.value():g} s window; "
                    "the stronger the colour, the more they disagree (Shift+N goes to the next disagreement)")
        if key == SUGGEST:
            return ("Where labelling next helps most (Suggestions: model doubt, disagreement with people, "
                    "unlabelled frames); the darker, the more, within this video (Ctrl+N goes to the next)")
        return "The model's labels; pale where it is unsure"

    def _draw_bands(self, track: Track | None) -> None:
        tl = self.ctx.views.timeline
        for key in BANDS.values():
            tl.remove_band(key)
        if track is None or track.va_std is None or not tl.visible.get(track.name, False):
            return
        colour = resources.label_colours().model
        for d, (plot, key) in enumerate(BANDS.items()):
            va, sd = track.va[:, d], track.va_std[:, d]
            tl.add_band(key, plot, va - sd, va + sd, colour, BAND_ALPHA.get(self.ctx.app.theme().name, 60))

    def _lane_colours(self) -> LaneColours:
        t = self.ctx.app.theme()
        return LaneColours(t.unlabelled, t.va_labelled, t.au_present, t.au_absent,
                           resources.label_colours().expressions)

    def _refill_menu(self) -> None:
        m, s = self.models_menu, self.session
        names = model_track_names(s.project, s.video) if s.project is not None and s.video else []
        shown = self.model_name() or ""
        m.clear()
        for name in [""] + names[::-1]:
            a = QAction(name or "None", m)
            a.setCheckable(True)
            a.setChecked(name == shown)
            a.triggered.connect(lambda _on=False, n=name: self.choose_model(n))
            self.models_group.addAction(a)
            m.addAction(a)
        m.setEnabled(bool(names))
