"""Theme colours on a pyqtgraph plot (background, axes, title, legend): one place for the engine's plots."""
from __future__ import annotations

import pyqtgraph as pg

from ..themes import Theme


def theme_plot(plot: pg.PlotWidget, t: Theme) -> None:
    plot.setBackground(t.plot_bg)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        ax = item.getAxis(name)
        ax.setPen(pg.mkPen(t.plot_fg))
        ax.setTextPen(pg.mkPen(t.plot_fg))
    item.setTitle(item.titleLabel.text, color=t.plot_fg)
    if item.legend is not None:
        item.legend.setLabelTextColor(t.plot_fg)
        for _sample, label in item.legend.items:  # drawn labels keep their colour until set again
            label.setText(label.text, color=t.plot_fg)
