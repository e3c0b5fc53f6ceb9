"""The dashboard's drawings (pyqtgraph): training loss per task per step, validation scores per epoch with
the best epoch marked, and the best epoch's expression confusion matrix and per-AU F1.

Each draws a core.runs.RunCurves; ``overlay`` draws a second run dashed on the same axes."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from core.runs import TASK_LOSSES, RunCurves

from ..themes import Theme
from .plot_theme import theme_plot

LOSS_COLOURS = {"total": "#616161", "va": "#1e88e5", "expr": "#e53935", "au": "#43a047"}
METRIC_CURVES = {"val_ccc_valence": ("CCC valence", "#1e88e5"), "val_ccc_arousal": ("CCC arousal", "#8e24aa"),
                 "val_expr_f1": ("EXPR F1", "#e53935"), "val_au_f1": ("AU F1", "#43a047")}


Curve = tuple[np.ndarray, np.ndarray]


def _xy(x: list[int], y: list[float]) -> Curve:
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(ys)
    return xs[keep], ys[keep]


class _Plot(pg.PlotWidget):
    """A plot with one line per key for the run shown and one dashed per key for the overlaid run."""

    def __init__(self, title: str, x_label: str, colours: dict[str, str], names: dict[str, str],
                 legend_at: tuple[int, int] = (-5, 5)) -> None:
        super().__init__()
        self.colours, self.names = colours, names
        self.setTitle(title)
        self.setLabel("bottom", x_label)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setMinimumHeight(150)
        self.legend = self.addLegend(offset=legend_at, labelTextSize="8pt", verSpacing=-6)
        self.lines = {k: self.plot([], [], pen=pg.mkPen(c, width=2), name=names[k]) for k, c in colours.items()}
        self.setClipToView(True)  # long runs: draw what is in view, at most a few points per pixel
        self.setDownsampling(auto=True, mode="peak")
        self.ghosts = {k: self.plot([], [], pen=pg.mkPen(c, width=1.5, style=Qt.DashLine)) for k, c in colours.items()}

    def draw(self, data: dict[str, Curve], ghost: dict[str, Curve]) -> None:
        for k, line in self.lines.items():
            line.setData(*data.get(k, ([], [])))
        for k, line in self.ghosts.items():
            line.setData(*ghost.get(k, ([], [])))

    def apply_theme(self, t: Theme) -> None:
        theme_plot(self, t)


class LossPlot(_Plot):
    """Each task's loss per step, smoothed (EMA_ALPHA) over the raw values drawn faint behind it."""

    def __init__(self) -> None:
        super().__init__("Training loss per step (smoothed)", "step", LOSS_COLOURS, {k: k for k in TASK_LOSSES})
        # fixed ranges and no grid: redrawn every second during playback, the plot must paint cheaply
        # (an axis that rescales re-lays out its ticks)
        self.showGrid(x=False, y=False)
        self.disableAutoRange()
        self._range = (0.0, 0.0)
        self.raw = {}
        for k, c in LOSS_COLOURS.items():
            faint = QColor(c)
            faint.setAlpha(50)
            self.raw[k] = self.plot([], [], pen=pg.mkPen(faint, width=1))
            self.raw[k].setZValue(-1)

    def show_run(self, run: RunCurves, other: RunCurves | None = None) -> None:
        raw = {k: _xy(run.steps, v) for k, v in run.losses.items()}
        for k, line in self.raw.items():
            line.setData(*raw.get(k, ([], [])))
        ghost = _smoothed({k: _xy(other.steps, v) for k, v in other.losses.items()}) if other else {}
        self.draw(_smoothed(raw), ghost)
        self._fit([run, *([other] if other else [])], raw, ghost)

    def _fit(self, runs: list[RunCurves], *curves: dict[str, Curve]) -> None:
        """x: the whole run (all its steps, known from the start); y: 0 to the highest loss seen."""
        x_max = max([r.progress[1] or (r.steps[-1] if r.steps else 0) for r in runs] + [1])
        ys = [float(np.max(y)) for c in curves for _x, y in c.values() if len(y)]
        y_max = max(ys) * 1.05 if ys else 1.0
        if (x_max, y_max) != self._range and (x_max != self._range[0] or y_max > self._range[1]
                                               or y_max < 0.5 * self._range[1]):
            self._range = (x_max, y_max)
            self.setXRange(0, x_max, padding=0.02)
            self.setYRange(0, y_max, padding=0)

    def apply_theme(self, t: Theme) -> None:
        super().apply_theme(t)
        self.lines["total"].setPen(pg.mkPen(t.plot_fg, width=2))
        self.ghosts["total"].setPen(pg.mkPen(t.plot_fg, width=1.5, style=Qt.DashLine))


EMA_ALPHA = 0.1


def _smoothed(curves: dict[str, Curve]) -> dict[str, Curve]:
    """Exponential moving average of each curve (bias-corrected at the start)."""
    out = {}
    for k, (x, y) in curves.items():
        if len(y) == 0:
            out[k] = (x, y)
            continue
        avg, s, w = np.empty_like(y), 0.0, 0.0
        for i, v in enumerate(y):
            s = (1 - EMA_ALPHA) * s + EMA_ALPHA * v
            w = (1 - EMA_ALPHA) * w + EMA_ALPHA
            avg[i] = s / w
        out[k] = (x, avg)
    return out


class MetricPlot(_Plot):
    """Validation CCC (valence, arousal), EXPR F1 and AU F1 per epoch; a vertical line at the best epoch."""

    def __init__(self) -> None:
        # the legend bottom right: scores rise, and the first epochs sit on the left
        super().__init__("Validation per epoch", "epoch", {k: c for k, (_n, c) in METRIC_CURVES.items()},
                         {k: n for k, (n, _c) in METRIC_CURVES.items()}, legend_at=(-5, -5))
        self.best = pg.InfiniteLine(angle=90, pen=pg.mkPen("#fb8c00", width=2, style=Qt.DotLine),
                                    label="best", labelOpts={"position": 0.92, "color": "#fb8c00"})
        self.best.setVisible(False)
        self.addItem(self.best)
        for line in self.lines.values():
            line.setSymbol("o")
            line.setSymbolSize(6)

    def show_run(self, run: RunCurves, other: RunCurves | None = None) -> None:
        self.draw(_metrics(run), _metrics(other) if other else {})
        epochs = max([run.epochs_total, *(run.epochs or [1])] + ([other.epochs_total] if other else []))
        self.setXRange(0.5, epochs + 0.5, padding=0)  # the whole run from its first epoch
        self.best.setVisible(run.best_epoch is not None)
        if run.best_epoch is not None:
            self.best.setValue(run.best_epoch)


def _metrics(run: RunCurves) -> dict[str, Curve]:
    return {k: _xy(run.epochs, run.metrics.get(k, [])) for k in METRIC_CURVES}


class ConfusionTable(QTableWidget):
    """The best epoch's expression confusion matrix (rows: reference, columns: predicted), shaded by the
    share of its row, with per-class F1 in the last column."""

    def __init__(self) -> None:
        super().__init__(0, 0)
        self.setEditTriggers(QTableWidget.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.horizontalHeader().setMinimumSectionSize(24)
        self.setToolTip("Expression confusion matrix of the best epoch: rows are the labels, columns the "
                        "model's classes; the last column is each class's F1")
        self.base, self.accent, self.text = QColor("#ffffff"), QColor("#1e88e5"), QColor("#000000")

    def show_details(self, details: dict) -> None:
        classes = list(details.get("expr_classes") or [])
        matrix = np.asarray(details.get("expr_confusion") or [], float)
        f1 = details.get("expr_per_class_f1") or {}
        self.clear()
        if not classes or matrix.shape != (len(classes), len(classes)):
            self.setRowCount(0)
            self.setColumnCount(0)
            return
        short = [c[:3] for c in classes]
        self.setRowCount(len(classes))
        self.setColumnCount(len(classes) + 1)
        self.setHorizontalHeaderLabels(short + ["F1"])
        for j, name in enumerate(classes):
            self.horizontalHeaderItem(j).setToolTip(f"predicted {name}")
        self.setVerticalHeaderLabels(classes)
        totals = matrix.sum(axis=1, keepdims=True)
        share = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
        for i in range(len(classes)):
            for j in range(len(classes)):
                item = QTableWidgetItem(str(int(matrix[i, j])))
                item.setTextAlignment(Qt.AlignCenter)
                item.setBackground(_mix(self.base, self.accent, share[i, j]))
                self.setItem(i, j, item)
            v = f1.get(classes[i])
            item = QTableWidgetItem("–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}")
            item.setTextAlignment(Qt.AlignCenter)
            self.setItem(i, len(classes), item)
        self.resizeColumnsToContents()
        self.setMinimumWidth(self.verticalHeader().sizeHint().width() + self.horizontalHeader().length()
                             + 2 * self.frameWidth() + 4)

    def apply_theme(self, t: Theme) -> None:
        self.base, self.accent, self.text = QColor(t.base), QColor(t.accent), QColor(t.text)


def _mix(a: QColor, b: QColor, w: float) -> QColor:
    w = float(min(1.0, max(0.0, w)))
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * w, a.greenF() + (b.greenF() - a.greenF()) * w,
                           a.blueF() + (b.blueF() - a.blueF()) * w)


class AUBars(pg.PlotWidget):
    """The best epoch's F1 per action unit."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("AU F1 (best epoch)")
        self.setYRange(0, 1)
        self.setMouseEnabled(x=False, y=False)
        self.setMinimumHeight(150)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#43a047")
        self.addItem(self.bars)

    def show_details(self, details: dict) -> None:
        f1 = details.get("au_per_au_f1") or {}
        names = list(f1)
        heights = [0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in f1.values()]
        self.bars.setOpts(x=list(range(len(names))), height=heights, width=0.7)
        self.getAxis("bottom").setTicks([[(i, n) for i, n in enumerate(names)]])
        if names:
            self.setXRange(-0.6, len(names) - 0.4)

    def apply_theme(self, t: Theme) -> None:
        theme_plot(self, t)
