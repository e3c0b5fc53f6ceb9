"""The compare view's drawings: project scores per track and task (bars), and one track's sliding-window
agreement with its reference over a video, the disagreement threshold and the worst segments shaded."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from core.compare import DISAGREEMENT_BELOW, PROJECT_ROW, AgreementSeries, Segment

from ..themes import Theme
from .plot_theme import theme_plot

TASK_COLOURS = {"va": "#1e88e5", "expr": "#e53935", "au": "#43a047"}
TASK_NAMES = {"va": "VA (CCC)", "expr": "EXPR (F1)", "au": "AU (F1)"}


def _short(name: str, room: int = 12) -> str:
    """A track name that fits under its bars (long model track names drop their middle)."""
    return name if len(name) <= room else f"{name[:room // 2 - 1]}…{name[-(room // 2):]}"


class ScoreBars(pg.PlotWidget):
    """Project-level ABAW score of each track, one bar per task."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Project score against the reference")
        self.setMinimumHeight(160)
        self.showGrid(y=True, alpha=0.25)
        self.addLegend(offset=(-5, 5), colCount=len(TASK_COLOURS))  # one row, above the bars
        self.bars: list[pg.BarGraphItem] = []
        self.tracks: list[str] = []

    def show_rows(self, rows: Sequence[dict]) -> None:
        for b in self.bars:
            self.removeItem(b)
        self.bars = []
        pooled = [r for r in rows if r["video"] == PROJECT_ROW]
        self.tracks = list(dict.fromkeys(r["track"] for r in pooled))
        width = 0.8 / max(1, len(TASK_COLOURS))
        for k, (task, colour) in enumerate(TASK_COLOURS.items()):
            xs, hs = [], []
            for r in pooled:
                if r["task"] == task and r["score"] is not None:
                    xs.append(self.tracks.index(r["track"]) - 0.4 + width * (k + 0.5))
                    hs.append(r["score"])
            if xs:
                bar = pg.BarGraphItem(x=xs, height=hs, width=width * 0.9, brush=colour, name=TASK_NAMES[task])
                self.addItem(bar)
                self.bars.append(bar)
        self.getAxis("bottom").setTicks([[(i, _short(t)) for i, t in enumerate(self.tracks)]])
        self.setXRange(-0.6, max(0.6, len(self.tracks) - 0.4), padding=0)
        low = min(0.0, *(h for b in self.bars for h in b.opts["height"])) if self.bars else 0.0
        self.setYRange(low, 1.3)  # room for the legend above a score of 1

    def apply_theme(self, t: Theme) -> None:
        theme_plot(self, t)


class AgreementPlot(pg.PlotWidget):
    """The agreement series of one track over one video (seconds), with the worst segments shaded."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Agreement over time")
        self.setLabel("bottom", "time (s)")
        self.setMinimumHeight(160)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.line = self.plot([], [], pen=pg.mkPen("#1e88e5", width=2))
        self.threshold = pg.InfiniteLine(DISAGREEMENT_BELOW, angle=0, pen=pg.mkPen("#fb8c00", style=Qt.DashLine))
        self.addItem(self.threshold)
        self.regions: list[pg.LinearRegionItem] = []

    def show_series(self, series: AgreementSeries | None, worst: Sequence[Segment], fps: float, title: str) -> None:
        for r in self.regions:
            self.removeItem(r)
        self.regions = []
        self.setTitle(title)
        if series is None:
            self.line.setData([], [])
            return
        t = np.arange(series.n_frames) / fps
        self.line.setData(t, series.values, connect="finite")
        for s in worst:
            region = pg.LinearRegionItem((s.start / fps, s.stop / fps), movable=False,
                                         brush=pg.mkBrush(229, 57, 53, 50), pen=pg.mkPen(None))
            self.addItem(region)
            self.regions.append(region)
        self.setYRange(-1.0 if series.task == "va" else 0.0, 1.0)

    def apply_theme(self, t: Theme) -> None:
        theme_plot(self, t)
        self.line.setPen(pg.mkPen(t.accent, width=2))
