"""Timeline (pyqtgraph): audio waveform, valence and arousal curves per track, label lanes, extra strips.

x is in seconds. Curves clip to the view and downsample (peak) so an hour of video pans smoothly;
lanes are images (one pixel column per frame) that Qt scales. Click or drag to seek. Every lane row is
at least ``row_height`` pixels tall (labels never overprint); when the dock is shorter than all rows the
timeline scrolls. The AU lanes fold into one summary row. With no video it says so instead of drawing
empty axes.

Other modules add rows and shading through this API (the lanes follow the video's frames):

    tl.add_strip(key, title, tooltip="")                    # a lane row below the label lanes
    tl.set_strip_colours(key, rgba)                         # (n_frames, 4) uint8, one colour per frame
    tl.set_strip_values(key, values, low, high)             # (n_frames,) in [0, 1] on a colour ramp; NaN blank
    tl.set_strip_segments(key, [(start, stop, colour)])     # coloured frame ranges, e.g. suggested segments
    tl.set_strip_legend(key, [(colour, meaning)])          # what its colours mean, in the legend
    tl.remove_strip(key)
    tl.add_band(key, "valence" | "arousal", low, high, colour)  # shaded band, e.g. a model's confidence
    tl.remove_band(key)
    tl.strips(), tl.strip_colours(key), tl.bands(), tl.band_values(key)  # what is drawn
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.labels import EXPRESSIONS
from core.tracks import Track, TrackKind

from .. import resources
from ..themes import Theme, theme
from .timeline_lanes import LaneColours, lane_names, legend_html, paint_label_lanes, ramp, segments
from .timeline_legend import TrackLegend

ROW_SPACING = 6
VIEW_MARGINS = (4, 2)  # top, bottom
TIME_SCALE_HEIGHT = 26
MARKS_ALPHA = 150


def marks_brush(colour: str) -> QBrush:
    """The in/out range: sparse diagonal hatching, so a lane's colour under it is seen as it is (a tint would
    turn Happiness olive)."""
    c = QColor(colour)
    c.setAlpha(MARKS_ALPHA)
    return QBrush(c, Qt.BDiagPattern)


EMPTY_TEXT = "No video open.\nThe timeline shows its audio, valence-arousal curves and label lanes."


class TimeAxis(pg.AxisItem):
    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            v = max(0.0, float(v))
            m, s = divmod(v, 60)
            h, m = divmod(int(m), 60)
            sec = f"{s:04.1f}" if spacing < 1 else f"{int(s):02d}"
            out.append(f"{h}:{m:02d}:{sec}" if h else f"{m}:{sec}")
        return out


def _cache(item: pg.PlotDataItem) -> None:
    """Keep the drawn curve as a pixmap: the moving playhead then repaints a strip by blitting,
    not by stroking every path again (redrawn when the data or the zoom changes)."""
    for child in (item.curve, item.scatter):
        child.setCacheMode(QGraphicsItem.DeviceCoordinateCache)


def _image() -> pg.ImageItem:
    im = pg.ImageItem(axisOrder="row-major")
    im.setAutoDownsample(True)
    im.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
    return im


class Timeline(QWidget):
    seekRequested = Signal(int)  # frame
    lanesChosen = Signal(str)  # track name
    auExpandedChanged = Signal(bool)
    curvesShown = Signal(str, bool)  # track name, its VA curves shown (legend or View > Tracks)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        d = resources.defaults()["timeline"]
        self.row_height, self.curve_height, self.wave_height = d["row_height"], d["curve_height"], d["wave_height"]
        self.visible_s = float(d["visible_s"])
        self.au_expanded = bool(d["au_expanded"])
        self.theme: Theme = theme("light")
        self.fps = 25.0
        self.n_frames = 0
        self.visible: dict[str, bool] = {}  # track name -> curves shown
        self._tracks: dict[str, Track] = {}
        self._curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self.lane_track: Track | None = None
        self.au_names: tuple[str, ...] = ()
        self._lanes: np.ndarray | None = None
        self._strips: dict[str, tuple[str, str, pg.ImageItem, np.ndarray | None]] = {}  # key -> title, tip, item, rgba
        self._bands: dict[str, tuple[pg.PlotItem, pg.FillBetweenItem]] = {}
        self._strip_legend: dict[str, list[tuple[str, str]]] = {}  # key -> (colour, meaning) in the legend
        self._dirty_tracks: set[str] = set()
        self._dirty_lanes: list[tuple[int, int]] = []
        self.follow = True
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(self._header())
        self.stack = QStackedWidget()
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setObjectName("note")
        self.stack.addWidget(self.empty)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOn)  # the time scale above keeps its width
        self.scroll.setFrameShape(QScrollArea.NoFrame)
        self.view = pg.GraphicsLayoutWidget()
        self.view.ci.layout.setSpacing(ROW_SPACING)
        self.view.ci.setContentsMargins(2, VIEW_MARGINS[0], 10, VIEW_MARGINS[1])
        self.scroll.setWidget(self.view)
        # the time scale: fixed above the rows, so it stays in view however far the lanes scroll
        self.axis_view = pg.GraphicsLayoutWidget()
        self.axis_view.setFixedHeight(TIME_SCALE_HEIGHT)
        self.axis_view.ci.setContentsMargins(2, 0, 10 + self.scroll.verticalScrollBar().sizeHint().width(), 0)
        page = QWidget()
        page_lay = QVBoxLayout(page)
        page_lay.setContentsMargins(0, 0, 0, 0)
        page_lay.setSpacing(0)
        page_lay.addWidget(self.axis_view)
        page_lay.addWidget(self.scroll, 1)
        self.stack.addWidget(page)
        lay.addWidget(self.stack, 1)
        self.legend_text = QLabel("")
        self.legend_text.setWordWrap(True)
        self.legend_text.setContentsMargins(8, 2, 8, 2)
        lay.addWidget(self.legend_text)
        self._build_plots()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._refresh)
        self.apply_theme(self.theme)

    # --- layout ---
    def _header(self) -> QHBoxLayout:
        head = QHBoxLayout()
        head.setContentsMargins(6, 2, 6, 2)
        self.legend = TrackLegend()
        self.legend.toggled.connect(self.set_visible)
        head.addWidget(self.legend, 1)
        self.au_toggle = QToolButton()
        self.au_toggle.setText("AU lanes")
        self.au_toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.au_toggle.setCheckable(True)
        self.au_toggle.setChecked(self.au_expanded)
        self.au_toggle.setFocusPolicy(Qt.NoFocus)
        self.au_toggle.setToolTip("Show one lane per action unit, or one summary lane")
        self.au_toggle.toggled.connect(self.set_au_expanded)
        head.addWidget(self.au_toggle)
        head.addWidget(QLabel("Lanes of:"))
        self.lanes_box = QComboBox()
        self.lanes_box.setFocusPolicy(Qt.NoFocus)
        self.lanes_box.setToolTip("Whose expression and AU labels the lanes show (default: yours)")
        self.lanes_box.activated.connect(lambda i: self.lanesChosen.emit(self.lanes_box.itemText(i)))
        head.addWidget(self.lanes_box)
        self.follow_box = QCheckBox("Follow playhead")
        self.follow_box.setChecked(True)
        self.follow_box.setFocusPolicy(Qt.NoFocus)
        self.follow_box.toggled.connect(lambda on: setattr(self, "follow", on))
        head.addWidget(self.follow_box)
        return head

    def _build_plots(self) -> None:
        self.wave = self._plot(0, "audio")
        self.time_scale = self.axis_view.addPlot(row=0, col=0, axisItems={"top": TimeAxis("top")})
        ts = self.time_scale
        ts.setMenuEnabled(False)
        ts.hideButtons()
        ts.showAxis("bottom", False)
        ts.showAxis("top", True)
        ts.getAxis("left").setWidth(84)
        ts.getAxis("left").setTicks([[]])
        ts.getAxis("left").setStyle(showValues=False)
        ts.setMouseEnabled(x=True, y=False)
        ts.setXLink(self.wave)
        self.val = self._plot(1, "valence")
        self.aro = self._plot(2, "arousal")
        self.lanes = self._plot(3, "")
        for p in (self.val, self.aro):
            p.setYRange(-1.3, 1.3, padding=0)  # ±1 sit inside: the labels of stacked plots never touch
            p.getAxis("left").setTicks([[(-1, "−1"), (0, "0"), (1, "+1")]])
            p.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen((128, 128, 128, 90), width=1)))
            p.setMinimumHeight(self.curve_height)
        self.wave.setYRange(-1, 1, padding=0)
        self.wave.getAxis("left").setTicks([[]])
        self.wave.setFixedHeight(self.wave_height)
        small = QFont()
        small.setPointSizeF(8.0)
        self.lanes.getAxis("left").setStyle(tickFont=small)
        self.lanes.invertY(True)
        self._wave_items: list[pg.PlotDataItem] = []
        self.lane_image = _image()
        self.lanes.addItem(self.lane_image)
        c = resources.label_colours()
        self.playheads = []
        for p in self._plots():
            line = pg.InfiniteLine(0, angle=90, movable=True, pen=pg.mkPen(c.playhead, width=2),
                                   hoverPen=pg.mkPen(c.playhead_hover, width=3))
            line.sigDragged.connect(self._dragged)
            p.addItem(line, ignoreBounds=True)
            self.playheads.append(line)
        self.view.scene().sigMouseClicked.connect(self._clicked)  # one scene holds every plot
        self.marks = [pg.LinearRegionItem(movable=False, pen=pg.mkPen(None)) for _ in self._plots()]
        for p, m in zip(self._plots(), self.marks):
            p.addItem(m, ignoreBounds=True)
            m.hide()

    def _plot(self, row: int, label: str) -> pg.PlotItem:
        p = self.view.addPlot(row=row, col=0)
        p.setMenuEnabled(False)
        p.hideButtons()
        p.showAxis("bottom", False)
        p.getAxis("left").setWidth(84)
        p.setMouseEnabled(x=True, y=False)
        if label:
            p.setLabel("left", label)
        if row:
            p.setXLink(self.wave)
        return p

    def _plots(self) -> list[pg.PlotItem]:
        return [self.wave, self.val, self.aro, self.lanes]

    def _rows(self) -> list[str]:
        return (lane_names(self.au_names, self.au_expanded) if self.lane_track is not None else []) + \
            [title for title, _tip, _it, _rgba in self._strips.values()]

    def _layout_rows(self) -> None:
        """Lane ticks and heights: every row ``row_height`` tall; the view as tall as all rows need."""
        rows = self._rows()
        n = max(len(rows), 1)
        self.lanes.getAxis("left").setTicks([[(i + 0.5, name) for i, name in enumerate(rows)]])
        self.lanes.setYRange(0, n, padding=0)
        h = n * self.row_height + 4
        self.lanes.setFixedHeight(h)
        # every row in full at full scroll (the last AU lane and the strips below it included)
        self.view.setMinimumHeight(self.wave_height + 2 * self.curve_height + h + 3 * ROW_SPACING
                                   + sum(VIEW_MARGINS) + 4)
        base = len(rows) - len(self._strips)
        for k, (_title, _tip, item, _rgba) in enumerate(self._strips.values()):
            item.setRect(0, base + k, max(self.n_frames, 1) / self.fps, 1)

    def apply_theme(self, t: Theme) -> None:
        self.theme = t
        self.view.setBackground(t.plot_bg)
        self.axis_view.setBackground(t.plot_bg)
        for p in self._plots() + [self.time_scale]:
            for ax in ("left", "top"):
                a = p.getAxis(ax)
                a.setPen(pg.mkPen(t.plot_fg))
                a.setTextPen(pg.mkPen(t.plot_fg))
        self.time_scale.getAxis("left").setPen(pg.mkPen(None))
        for m in self.marks:  # hatched, edges drawn: the labels under the range keep their colours
            m.setBrush(marks_brush(t.marks))
            for line in m.lines:
                line.setPen(pg.mkPen(t.marks, width=2))
            m.update()
        self.au_toggle.setIcon(resources.icon("chevron-down" if self.au_expanded else "chevron-right", t.text))
        self._show_legend()
        self.set_tracks(list(self._tracks.values()))
        self.set_lane_track(self.lane_track)

    def _show_legend(self) -> None:
        strips = [(self._strips[k][0], entries) for k, entries in self._strip_legend.items() if k in self._strips]
        self.legend_text.setText(legend_html(self._lane_colours(), EXPRESSIONS, self.theme.muted, strips))

    def _lane_colours(self) -> LaneColours:
        t = self.theme
        return LaneColours(t.unlabelled, t.va_labelled, t.au_present, t.au_absent,
                           resources.label_colours().expressions)

    # --- content ---
    def set_video(self, n_frames: int, fps: float) -> None:
        self.n_frames, self.fps = int(n_frames), float(fps)
        self.stack.setCurrentIndex(1 if self.n_frames > 0 else 0)
        dur = max(n_frames / self.fps, 1e-3)
        for p in self._plots():
            p.setLimits(xMin=0, xMax=dur, minXRange=min(dur, 10 / self.fps))
        self.wave.setXRange(0, min(dur, self.visible_s), padding=0)
        self.set_waveform(None)
        for key in list(self._strips):
            self.remove_strip(key)
        for key in list(self._bands):
            self.remove_band(key)

    def clear(self) -> None:
        """No video: the empty state."""
        self.set_tracks([])
        self.set_lane_track(None)
        self.n_frames = 0
        self.stack.setCurrentIndex(0)

    def set_waveform(self, envelope: np.ndarray | None) -> None:
        """Peak amplitude per frame (n,) in 0..1, or None."""
        for it in self._wave_items:
            self.wave.removeItem(it)
        self._wave_items = []
        if envelope is None or not len(envelope):
            return
        x = np.arange(len(envelope)) / self.fps
        env = np.clip(envelope / max(float(envelope.max()), 1e-6), 0, 1).astype(np.float32)
        brush = pg.mkBrush(QColor(self.theme.muted))
        for sign in (1, -1):
            it = pg.PlotDataItem(pen=None, fillLevel=0, brush=brush)
            self.wave.addItem(it)  # clipping needs the view box: add before setting data
            it.setClipToView(True)
            it.setDownsampling(auto=True, method="peak")
            it.setData(x, sign * env)
            _cache(it)
            self._wave_items.append(it)

    def colour_of(self, track: Track, k: int) -> tuple[str, Qt.PenStyle]:
        if track.source.kind == TrackKind.FUSED:
            return self.theme.fused, Qt.SolidLine
        if track.source.kind == TrackKind.MODEL:
            return resources.label_colours().model, Qt.DashLine
        colours = resources.label_colours().tracks
        return colours[k % len(colours)], Qt.SolidLine

    def set_tracks(self, tracks: Sequence[Track]) -> None:
        """The tracks whose VA curves can be shown (visibility kept by name)."""
        for a, b in self._curves.values():
            self.val.removeItem(a)
            self.aro.removeItem(b)
        self._curves = {}
        self._tracks = {t.name: t for t in tracks}
        k = 0
        legend = []
        for t in tracks:
            colour, style = self.colour_of(t, k)
            if t.source.kind == TrackKind.HUMAN:
                k += 1
            width = 2.5 if t.source.kind == TrackKind.FUSED else 1.5
            pen = pg.mkPen(colour, width=width, style=style)
            items = []
            for plot in (self.val, self.aro):
                it = pg.PlotDataItem(pen=pen, connect="finite", name=t.name)
                plot.addItem(it)
                it.setClipToView(True)
                it.setDownsampling(auto=True, method="peak")
                _cache(it)
                items.append(it)
            self._curves[t.name] = (items[0], items[1])
            self.visible.setdefault(t.name, t.source.kind != TrackKind.MODEL)
            self._update_curve(t.name)
            legend.append((t.name, colour, self.visible[t.name]))
        self.legend.set_items(legend)
        # lanes: annotators' tracks and read-only tool tracks (OpenFace, py-feat AUs have no other view)
        names = [t.name for t in tracks if t.source.kind == TrackKind.HUMAN or t.source.tool is not None]
        current = self.lane_track.name if self.lane_track is not None else None
        self.lanes_box.clear()
        self.lanes_box.addItems(names)
        if current in names:
            self.lanes_box.setCurrentIndex(names.index(current))

    def replace_track(self, track: Track) -> None:
        """A newer copy of a drawn track (another annotator saved it): only its curve and lanes are redrawn."""
        if track.name not in self._tracks:
            return
        self._tracks[track.name] = track
        if self.lane_track is not None and self.lane_track.name == track.name:
            self.lane_track = track
        self.labels_changed(track.name, "", 0, track.n_frames)

    def set_visible(self, name: str, on: bool) -> None:
        self.visible[name] = on
        self.legend.set_checked(name, on)
        for it in self._curves.get(name, ()):
            it.setVisible(on)
        self.curvesShown.emit(name, on)

    def _update_curve(self, name: str) -> None:
        t = self._tracks.get(name)
        if t is None or name not in self._curves:
            return
        x = np.arange(t.n_frames, dtype=np.float64) / self.fps
        a, b = self._curves[name]
        a.setData(x, t.va[:, 0])
        b.setData(x, t.va[:, 1])
        on = self.visible.get(name, True)
        a.setVisible(on)
        b.setVisible(on)

    def set_au_expanded(self, on: bool) -> None:
        """One lane per AU, or one summary lane."""
        on = bool(on)
        if self.au_toggle.isChecked() != on:
            self.au_toggle.setChecked(on)  # comes back here through toggled
            return
        if on == self.au_expanded:
            return
        self.au_expanded = on
        self.au_toggle.setIcon(resources.icon("chevron-down" if on else "chevron-right", self.theme.text))
        self.set_lane_track(self.lane_track)
        self.auExpandedChanged.emit(on)

    def set_lane_track(self, track: Track | None) -> None:
        """The track drawn in the lanes (the current annotator's): VA labelled, expression, AUs."""
        self.lane_track = track
        if track is None:
            self.lane_image.clear()
            self._lanes = None
            self._layout_rows()
            return
        self.au_names = tuple(track.au_names)
        rows = len(lane_names(self.au_names, self.au_expanded))
        self._lanes = np.zeros((rows, track.n_frames, 4), np.uint8)
        paint_label_lanes(self._lanes, track, 0, track.n_frames, self._lane_colours(), self.au_expanded)
        self.lane_image.setImage(self._lanes, autoLevels=False, levels=(0, 255))
        self.lane_image.setRect(0, 0, track.n_frames / self.fps, rows)
        self._layout_rows()
        i = self.lanes_box.findText(track.name)
        if i >= 0:
            self.lanes_box.setCurrentIndex(i)

    def labels_changed(self, track: str, task: str, start: int, stop: int) -> None:
        """Coalesce repaints: called for every edit, drawn at most every 120 ms."""
        if task in ("va", ""):  # "": the whole track was replaced
            self._dirty_tracks.add(track)
        if self.lane_track is not None and track == self.lane_track.name:
            self._dirty_lanes.append((start, stop))
        if not self._timer.isActive():
            self._timer.start()

    def _refresh(self) -> None:
        for name in self._dirty_tracks:
            self._update_curve(name)
        self._dirty_tracks.clear()
        if self._dirty_lanes and self._lanes is not None:
            for a, b in self._dirty_lanes:
                paint_label_lanes(self._lanes, self.lane_track, a, b, self._lane_colours(), self.au_expanded)
            self.lane_image.setImage(self._lanes, autoLevels=False, levels=(0, 255))
        self._dirty_lanes = []

    def flush(self) -> None:
        self._timer.stop()
        self._refresh()

    # --- strips and bands added by other modules (see the module doc) ---
    def add_strip(self, key: str, title: str, tooltip: str = "") -> None:
        if key in self._strips:
            raise ValueError(f"a strip {key!r} exists")
        item = _image()
        item.setToolTip(tooltip)
        self.lanes.addItem(item)
        self._strips[key] = (title, tooltip, item, None)
        self._layout_rows()
        if key in self._strip_legend:
            self._show_legend()

    def set_strip_colours(self, key: str, colours: np.ndarray) -> None:
        title, tip, item, _old = self._strips[key]
        c = np.ascontiguousarray(colours, np.uint8).reshape(1, -1, 4)
        if c.shape[1] != self.n_frames:
            raise ValueError(f"strip {key!r}: {c.shape[1]} colours for {self.n_frames} frames")
        self._strips[key] = (title, tip, item, c)
        item.setImage(c, autoLevels=False, levels=(0, 255))
        self._layout_rows()

    def set_strip_values(self, key: str, values: np.ndarray, low: str | None = None, high: str | None = None) -> None:
        t = self.theme
        self.set_strip_colours(key, ramp(values, low or t.heat_low, high or t.heat_high, t.unlabelled)[0])

    def set_strip_segments(self, key: str, segs: Sequence[tuple[int, int, str]]) -> None:
        self.set_strip_colours(key, segments(self.n_frames, segs, self.theme.unlabelled)[0])

    def set_strip_legend(self, key: str, entries: Sequence[tuple[str, str]]) -> None:
        """What a strip's colours mean, in the legend under the lanes while the strip is shown."""
        self._strip_legend[key] = list(entries)
        self._show_legend()

    def strip_legend(self, key: str) -> list[tuple[str, str]]:
        return list(self._strip_legend.get(key, [])) if key in self._strips else []

    def strips(self) -> list[str]:
        return list(self._strips)

    def strip_colours(self, key: str) -> np.ndarray | None:
        """(n_frames, 4) the colours drawn in a strip, None before any were set."""
        rgba = self._strips[key][3]
        return None if rgba is None else rgba[0]

    def remove_strip(self, key: str) -> None:
        entry = self._strips.pop(key, None)
        if entry is not None:
            self.lanes.removeItem(entry[2])
            self._layout_rows()
            if key in self._strip_legend:
                self._show_legend()

    def add_band(self, key: str, plot: str, low: np.ndarray, high: np.ndarray, colour: str, alpha: int = 60) -> None:
        """Shade between ``low`` and ``high`` (n_frames,) on the valence or arousal plot; NaN leaves gaps."""
        self.remove_band(key)
        target = {"valence": self.val, "arousal": self.aro}[plot]
        x = np.arange(len(low), dtype=np.float64) / self.fps
        # curve items, not PlotDataItems: a PlotDataItem without a pen makes no path to fill between
        lo = pg.PlotCurveItem(x, np.asarray(low, np.float64), connect="finite")
        hi = pg.PlotCurveItem(x, np.asarray(high, np.float64), connect="finite")
        c = QColor(colour)
        c.setAlpha(alpha)
        band = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(c))
        target.addItem(band)
        self._bands[key] = (target, band)

    def bands(self) -> list[str]:
        return list(self._bands)

    def band_values(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) of a band, per frame."""
        return tuple(np.asarray(c.yData) for c in self._bands[key][1].curves)

    def remove_band(self, key: str) -> None:
        entry = self._bands.pop(key, None)
        if entry is not None:
            entry[0].removeItem(entry[1])

    # --- playhead, marks, seeking ---
    def set_playhead(self, frame: int, coarse: bool = False) -> None:
        """Move the playhead to ``frame``; it is redrawn only when it moves a pixel, and with ``coarse``
        (playing: each move repaints every plot under it) only when it moves two frames."""
        x = frame / self.fps
        lo, hi = self.wave.viewRange()[0]
        step = (hi - lo) / max(self.wave.vb.width(), 1.0)  # seconds per pixel
        if coarse:
            step = max(step, 1.9 / self.fps)
        if abs(x - self.playheads[0].value()) >= step or not lo <= x <= hi:
            for line in self.playheads:
                line.setValue(x)
        if self.follow and not lo <= x <= hi:
            w = hi - lo
            self.wave.setXRange(max(0.0, x - 0.1 * w), max(0.0, x - 0.1 * w) + w, padding=0)

    def set_marks(self, a: int | None, b: int | None) -> None:
        for m in self.marks:
            if a is None or b is None:
                m.hide()
            else:
                m.setRegion((a / self.fps, (b + 1) / self.fps))
                m.show()

    def _dragged(self, line: pg.InfiniteLine) -> None:
        self.seekRequested.emit(self._frame_at(line.value()))

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.LeftButton or self.n_frames == 0:
            return
        for p in self._plots():
            if p.sceneBoundingRect().contains(ev.scenePos()):
                x = p.vb.mapSceneToView(ev.scenePos()).x()
                self.seekRequested.emit(self._frame_at(x))
                return

    def _frame_at(self, x: float) -> int:
        return int(max(0, min(self.n_frames - 1, np.floor(x * self.fps + 1e-6))))
