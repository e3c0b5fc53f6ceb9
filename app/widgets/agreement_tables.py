"""The agreement numbers: the pairwise matrix as a heat map and the summary coefficients, each sized to
show every value; used in the Agreement dock and in its larger window."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..themes import Theme, theme


def fmt(x: float | None) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.3f}"


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(*(round(x + (y - x) * t) for x, y in zip(a.getRgb()[:3], b.getRgb()[:3])))


def heat(value: float, t: Theme) -> QColor | None:
    """Colour of an agreement coefficient: low (<= 0) to mid (0.5) to high (1); None for NaN."""
    if not np.isfinite(value):
        return None
    v = float(np.clip(value, 0.0, 1.0))
    lo, mid, hi = QColor(t.heat_low), QColor(t.heat_mid), QColor(t.heat_high)
    return _mix(lo, mid, v / 0.5) if v < 0.5 else _mix(mid, hi, (v - 0.5) / 0.5)


class HeatScale(QWidget):
    """The heat map's colour scale: the ramp of ``heat`` from 0 (and below) through 0.5 to 1, with its ticks."""

    TICKS = ((0.0, "≤ 0"), (0.5, "0.5"), (1.0, "1"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme("light")
        self.setFixedHeight(self.fontMetrics().height() + 16)
        self.setMinimumWidth(120)
        self.setToolTip("Colour scale of the pairwise table: low agreement to high")

    def apply_theme(self, t: Theme) -> None:
        self.theme = t
        self.update()

    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        fm = self.fontMetrics()
        pad = fm.horizontalAdvance("≤ 0") // 2 + 2
        bar = QRectF(pad, 2, max(self.width() - 2 * pad, 10), 10)
        g = QLinearGradient(bar.left(), 0, bar.right(), 0)
        for v in (0.0, 0.25, 0.5, 0.75, 1.0):
            g.setColorAt(v, heat(v, self.theme))
        p.fillRect(bar, g)
        p.setPen(QPen(QColor(self.theme.border)))
        p.drawRect(bar)
        p.setPen(QPen(QColor(self.theme.text)))
        for v, text in self.TICKS:
            x = bar.left() + v * bar.width()
            w = fm.horizontalAdvance(text) + 2
            p.drawText(QRectF(x - w / 2, bar.bottom() + 1, w, fm.height()), Qt.AlignCenter, text)
        p.end()


LAG_AGAINST = {"reference": "the reference track", "labels": "the video (anchored on the expression/AU labels)",
               "relative": "the earliest annotator"}


def lag_rows(lags: dict[str, float], basis: str) -> list[tuple[str, str, str]]:
    """(row name, value, tooltip) of each annotator's reaction lag, saying what it is measured against."""
    against = LAG_AGAINST.get(basis, basis)
    short = {"reference": "vs reference", "labels": "vs video", "relative": "vs earliest"}.get(basis, basis)
    return [(f"lag {k} {short}", f"{v:.2f} s", f"{k} reacts {v:.2f} s after {against}") for k, v in lags.items()]


def _fit_height(table: QTableWidget) -> None:
    """No vertical scroll bar: the table is exactly as tall as its rows."""
    h = table.horizontalHeader().sizeHint().height() if not table.horizontalHeader().isHidden() else 0
    h += sum(table.rowHeight(r) for r in range(table.rowCount())) + 2 * table.frameWidth() + 2
    if table.horizontalScrollBar().isVisible():
        h += table.horizontalScrollBar().height()
    table.setFixedHeight(h)


def _table(columns: int) -> QTableWidget:
    t = QTableWidget(0, columns)
    t.setEditTriggers(QTableWidget.NoEditTriggers)
    t.setFocusPolicy(Qt.NoFocus)
    t.setSelectionMode(QTableWidget.NoSelection)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    t.setSizeAdjustPolicy(QAbstractScrollArea.AdjustToContents)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    return t


class AgreementTables(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme("light")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.matrix_title = QLabel("")
        self.matrix_title.setObjectName("subheading")
        lay.addWidget(self.matrix_title)
        self.table = _table(0)
        lay.addWidget(self.table)
        self.scale = HeatScale()
        lay.addWidget(self.scale)
        self.summary = _table(2)
        self.summary.setHorizontalHeaderLabels(["coefficient", "value"])
        self.summary.verticalHeader().hide()
        # the values always show whole; a long name is cut with "…" in a narrow dock (its tooltip is whole)
        self.summary.setSizeAdjustPolicy(QAbstractScrollArea.AdjustIgnored)
        self.summary.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.summary.setTextElideMode(Qt.ElideMiddle)
        self.summary.setMinimumWidth(120)
        self.summary.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        lay.addWidget(self.summary)
        lay.addStretch(1)
        self.result: dict | None = None
        self.show_result(None)

    def apply_theme(self, t: Theme) -> None:
        self.theme = t
        self.scale.apply_theme(t)
        self.show_result(self.result)

    def show_result(self, res: dict | None) -> None:
        self.result = res
        for w in (self.matrix_title, self.table, self.scale, self.summary):
            w.setVisible(res is not None)
        if res is None:
            self.table.setRowCount(0)
            self.summary.setRowCount(0)
            return
        names, m = res["names"], res["pairwise"]
        self.matrix_title.setText(f"Pairwise {res['pair_name']}")
        self.table.setRowCount(len(names))
        self.table.setColumnCount(len(names))
        self.table.setHorizontalHeaderLabels(names)
        self.table.setVerticalHeaderLabels(names)
        for i in range(len(names)):
            for j in range(len(names)):
                it = QTableWidgetItem("" if i == j else fmt(m[i, j]))
                it.setTextAlignment(Qt.AlignCenter)
                c = None if i == j else heat(m[i, j], self.theme)
                if c is not None:
                    it.setBackground(QBrush(c))
                    it.setForeground(QBrush(QColor(self.theme.heat_text)))
                it.setToolTip(f"{names[i]} vs {names[j]}: {res['pair_name']} {fmt(m[i, j])}" if i != j else "")
                self.table.setItem(i, j, it)
        rows = [(k, fmt(v), f"{k}: {fmt(v)}") for k, v in res["summary"].items()]
        if res.get("lags"):
            rows += lag_rows(res["lags"], str(res.get("lag_basis", "relative")))
        self.summary.setRowCount(len(rows))
        for r, (k, v, tip) in enumerate(rows):
            name = QTableWidgetItem(k)
            name.setToolTip(tip)
            self.summary.setItem(r, 0, name)
            val = QTableWidgetItem(v)
            val.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.summary.setItem(r, 1, val)
        self.refit()

    def refit(self) -> None:
        """Columns and rows to their content, and the tables exactly as tall as their rows (again when the
        font changes or the widget is first shown, since both change the row heights)."""
        self.table.resizeColumnsToContents()
        for t in (self.table, self.summary):
            t.resizeRowsToContents()
            _fit_height(t)

    def showEvent(self, e) -> None:
        super().showEvent(e)
        self.refit()

    def changeEvent(self, e) -> None:
        super().changeEvent(e)
        if e.type() == QEvent.FontChange:
            self.refit()


class AgreementWindow(QDialog):
    """The same tables in a window of their own (non-modal), for many annotators or a large screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Agreement")
        lay = QVBoxLayout(self)
        self.caption = QLabel("")
        self.caption.setObjectName("note")
        lay.addWidget(self.caption)
        self.tables = AgreementTables()
        f = self.tables.font()
        f.setPointSizeF(f.pointSizeF() * 1.35)
        self.tables.setFont(f)
        lay.addWidget(self.tables, 1)
        self.resize(760, 640)
