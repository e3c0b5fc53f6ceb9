"""Timeline (pyqtgraph): audio waveform, valence and arousal curves per track, expression and AU lanes.

x is in seconds. Curves clip to the view and downsample (peak) so an hour of video pans smoothly;
lanes are one RGBA image (one pixel column per frame) that Qt scales. Click or drag to seek.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem, QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.labels import AU_MISSING, EXPR_MISSING
from core.tracks import Track, TrackKind

from ..themes import EXPR_COLOURS, MODEL_COLOUR, TRACK_COLOURS, Theme, theme


class TimeAxis(pg.AxisItem):
    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            v = max(0.0, float(v))
            m, s = divmod(v, 60)
            h, m = divmod(int(m), 60)
            frac = spacing < 1
            sec = f"{s:04.1f}" if frac else f"{int(s):02d}"
            out.append(f"{h}:{m:02d}:{sec}" if h else f"{m}:{sec}")
        return out


def _cache(item: pg.PlotDataItem) -> None:
    """Keep the drawn curve as a pixmap: the moving playhead then repaints a strip by blitting,
    not by stroking every path again (redrawn when the data or the zoom changes)."""
    for child in (item.curve, item.scatter):
        child.setCacheMode(QGraphicsItem.DeviceCoordinateCache)


def _rgba(hex_colour: str, alpha: int = 255) -> np.ndarray:
    c = QColor(hex_colour)
    return np.array([c.red(), c.green(), c.blue(), alpha], np.uint8)


class Timeline(QWidget):
    seekRequested = Signal(int)  # frame
    lanesChosen = Signal(str)  # track name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: Theme = theme("light")
        self.fps = 25.0
        self.n_frames = 0
        self.visible: dict[str, bool] = {}  # track name -> curves shown
        self._tracks: dict[str, Track] = {}
        self._curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self.lane_track: Track | None = None
        self.au_names: tuple[str, ...] = ()
        self._lanes: np.ndarray | None = None
        self._dirty_tracks: set[str] = set()
        self._dirty_lanes: list[tuple[int, int]] = []
        self.follow = True
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        head = QHBoxLayout()
        head.setContentsMargins(6, 2, 6, 2)
        self.legend = QHBoxLayout()
        self.legend.setSpacing(10)
        head.addLayout(self.legend)
        head.addStretch(1)
        head.addWidget(QLabel("Lanes:"))
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
        lay.addLayout(head)
        self._legend_boxes: dict[str, QCheckBox] = {}
        self.view = pg.GraphicsLayoutWidget()
        self.view.ci.layout.setSpacing(0)
        self.view.ci.setContentsMargins(2, 2, 8, 2)
        lay.addWidget(self.view)
        self.wave = self._plot(0, "audio", 42)
        self.val = self._plot(1, "valence", None)
        self.aro = self._plot(2, "arousal", None)
        self.lanes = self._plot(3, "", None, bottom_axis=True)
        for p in (self.val, self.aro):
            p.setYRange(-1.05, 1.05, padding=0)
            p.getAxis("left").setTicks([[(-1, "−1"), (0, "0"), (1, "+1")]])
            p.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen((128, 128, 128, 90), width=1)))
        self.wave.setYRange(-1, 1, padding=0)
        self.wave.getAxis("left").setTicks([[(0, "audio")]])
        self.view.ci.layout.setRowStretchFactor(1, 2)
        self.view.ci.layout.setRowStretchFactor(2, 2)
        self.view.ci.layout.setRowStretchFactor(3, 5)
        small = QFont()
        small.setPointSizeF(7.0)
        self.lanes.getAxis("left").setStyle(tickFont=small)
        self._wave_items: list[pg.PlotDataItem] = []
        self.lane_image = pg.ImageItem(axisOrder="row-major")
        self.lane_image.setAutoDownsample(True)
        self.lane_image.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.lanes.addItem(self.lane_image)
        self.lanes.invertY(True)
        self.playheads = []
        for p in self._plots():
            line = pg.InfiniteLine(0, angle=90, movable=True, pen=pg.mkPen("#e53935", width=2),
                                   hoverPen=pg.mkPen("#ff8a80", width=3))
            line.sigDragged.connect(self._dragged)
            p.addItem(line, ignoreBounds=True)
            self.playheads.append(line)
        self.view.scene().sigMouseClicked.connect(self._clicked)  # one scene holds every plot
        self.marks = [pg.LinearRegionItem(movable=False, brush=pg.mkBrush(37, 99, 235, 40), pen=pg.mkPen(None))
                      for _ in self._plots()]
        for p, m in zip(self._plots(), self.marks):
            p.addItem(m, ignoreBounds=True)
            m.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._refresh)

    # --- layout ---
    def _plot(self, row: int, label: str, height: int | None, bottom_axis: bool = False) -> pg.PlotItem:
        p = self.view.addPlot(row=row, col=0, axisItems={"bottom": TimeAxis("bottom")})
        p.setMenuEnabled(False)
        p.hideButtons()
        p.showAxis("bottom", bottom_axis)
        p.getAxis("left").setWidth(58)
        p.setMouseEnabled(x=True, y=False)
        if label:
            p.setLabel("left", label)
        if height:
            p.setMaximumHeight(height)
            p.getAxis("left").setLabel(None)
        if row:
            p.setXLink(self.wave)
        return p

    def _plots(self) -> list[pg.PlotItem]:
        return [self.wave, self.val, self.aro, self.lanes]

    def apply_theme(self, t: Theme) -> None:
        self.theme = t
        self.view.setBackground(t.plot_bg)
        for p in self._plots():
            for ax in ("left", "bottom"):
                a = p.getAxis(ax)
                a.setPen(pg.mkPen(t.plot_fg))
                a.setTextPen(pg.mkPen(t.plot_fg))
        self.set_tracks(list(self._tracks.values()))
        self.set_lane_track(self.lane_track)

    # --- content ---
    def set_video(self, n_frames: int, fps: float) -> None:
        self.n_frames, self.fps = int(n_frames), float(fps)
        dur = max(n_frames / self.fps, 1e-3)
        for p in self._plots():
            p.setLimits(xMin=0, xMax=dur, minXRange=min(dur, 10 / self.fps))
        self.wave.setXRange(0, min(dur, 60.0), padding=0)
        self.set_waveform(None)

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

    def colour_of(self, track: Track, k: int) -> tuple[str, object]:
        if track.source.kind == TrackKind.FUSED:
            return self.theme.fused, Qt.SolidLine
        if track.source.kind == TrackKind.MODEL:
            return MODEL_COLOUR, Qt.DashLine
        return TRACK_COLOURS[k % len(TRACK_COLOURS)], Qt.SolidLine

    def set_tracks(self, tracks: Sequence[Track]) -> None:
        """The tracks whose VA curves can be shown (visibility kept by name)."""
        for a, b in self._curves.values():
            self.val.removeItem(a)
            self.aro.removeItem(b)
        self._curves = {}
        self._tracks = {t.name: t for t in tracks}
        k = 0
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
        self._build_legend(tracks)

    def _build_legend(self, tracks: Sequence[Track]) -> None:
        """One coloured check box per track: the legend of the curves and their switch."""
        while self.legend.count():
            w = self.legend.takeAt(0).widget()
            if w is not None:
                w.hide()  # deleteLater alone leaves it painted until the event loop runs
                w.setParent(None)
                w.deleteLater()
        self._legend_boxes = {}
        k = 0
        for t in tracks:
            colour, _style = self.colour_of(t, k)
            if t.source.kind == TrackKind.HUMAN:
                k += 1
            box = QCheckBox(t.name)
            box.setFocusPolicy(Qt.NoFocus)
            box.setChecked(self.visible.get(t.name, True))
            box.setStyleSheet(f"QCheckBox {{ color: {colour}; font-weight: 600; }}")
            box.toggled.connect(lambda on, n=t.name: self.set_visible(n, on))
            self.legend.addWidget(box)
            self._legend_boxes[t.name] = box
        names = [t.name for t in tracks if t.source.kind == TrackKind.HUMAN]
        current = self.lane_track.name if self.lane_track is not None else None
        self.lanes_box.clear()
        self.lanes_box.addItems(names)
        if current in names:
            self.lanes_box.setCurrentIndex(names.index(current))

    def set_visible(self, name: str, on: bool) -> None:
        self.visible[name] = on
        box = self._legend_boxes.get(name)
        if box is not None and box.isChecked() != on:
            box.setChecked(on)
        if name in self._curves:
            for it in self._curves[name]:
                it.setVisible(on)

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

    def set_lane_track(self, track: Track | None) -> None:
        """The track drawn in the lanes (the current annotator's): VA coverage, expression, each AU."""
        self.lane_track = track
        if track is None:
            self.lane_image.clear()
            self._lanes = None
            return
        self.au_names = tuple(track.au_names)
        self._lanes = np.zeros((2 + len(self.au_names), track.n_frames, 4), np.uint8)
        self._paint_lanes(0, track.n_frames)
        names = ["VA", "expr"] + list(self.au_names)
        self.lanes.getAxis("left").setTicks([[(i + 0.5, n) for i, n in enumerate(names)]])
        self.lanes.setYRange(0, len(names), padding=0)
        self.lane_image.setImage(self._lanes, autoLevels=False, levels=(0, 255))
        self.lane_image.setRect(0, 0, track.n_frames / self.fps, len(names))
        i = self.lanes_box.findText(track.name)
        if i >= 0:
            self.lanes_box.setCurrentIndex(i)

    def _paint_lanes(self, start: int, stop: int) -> None:
        t, img = self.lane_track, self._lanes
        if t is None or img is None:
            return
        stop = min(stop, t.n_frames)
        unl = _rgba(self.theme.unlabelled)
        va_ok = ~np.isnan(t.va[start:stop]).any(axis=1)
        img[0, start:stop] = np.where(va_ok[:, None], _rgba("#43a047", 200), unl)
        e = t.expr[start:stop].astype(np.int16)
        palette = np.stack([_rgba(c) for c in EXPR_COLOURS])
        img[1, start:stop] = np.where((e == EXPR_MISSING)[:, None], unl, palette[np.clip(e, 0, 7)])
        present, absent = _rgba("#3949ab"), _rgba("#c5cae9", 150)
        for k in range(len(self.au_names)):
            a = t.au[start:stop, k]
            img[2 + k, start:stop] = np.where((a == 1)[:, None], present,
                                              np.where((a == AU_MISSING)[:, None], unl, absent))

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
                self._paint_lanes(a, b)
            self.lane_image.setImage(self._lanes, autoLevels=False, levels=(0, 255))
        self._dirty_lanes = []

    def flush(self) -> None:
        self._timer.stop()
        self._refresh()

    # --- playhead, marks, seeking ---
    def set_playhead(self, frame: int) -> None:
        x = frame / self.fps
        lo, hi = self.wave.viewRange()[0]
        px = (hi - lo) / max(self.wave.vb.width(), 1.0)  # seconds per pixel
        if abs(x - self.playheads[0].value()) >= px or not lo <= x <= hi:  # redraw only when it moves a pixel
            for line in self.playheads:
                line.setValue(x)
        if self.follow:
            lo, hi = self.wave.viewRange()[0]
            if not lo <= x <= hi:
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
