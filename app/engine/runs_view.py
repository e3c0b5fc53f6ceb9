"""The project's training runs as a table (recipe, status, best validation scores); open one in the
dashboard, or overlay a second one's curves on it."""
from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.runs import RunInfo, list_runs, recipe_text

from .table import read_only_table

COLUMNS = (("Run", None), ("Status", None), ("Best epoch", None), ("CCC V", "val_ccc_valence"),
           ("CCC A", "val_ccc_arousal"), ("EXPR F1", "val_expr_f1"), ("AU F1", "val_au_f1"), ("Recipe", None))


def _fmt(v: object) -> str:
    return f"{v:.3f}" if isinstance(v, (int, float)) and math.isfinite(v) else "–"


class RunsView(QWidget):
    """Select one run and Show it; select two and Overlay the second on the first."""

    showRun = Signal(str)  # run folder
    overlayRuns = Signal(str, str)  # run folder shown, run folder overlaid

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.runs: list[RunInfo] = []
        self.table = read_only_table([c for c, _k in COLUMNS], multi=True)
        self.table.itemSelectionChanged.connect(self._selection)
        self.table.cellDoubleClicked.connect(lambda _r, _c: self._show())
        self.empty = QLabel("No training run in this project yet.")
        self.show_btn = QPushButton("Show")
        self.show_btn.setToolTip("Open the selected run's dashboard (from its saved event log)")
        self.overlay_btn = QPushButton("Overlay")
        self.overlay_btn.setToolTip("Select two runs: the second one's curves are drawn dashed over the first's")
        refresh = QPushButton("Refresh")
        self.show_btn.clicked.connect(self._show)
        self.overlay_btn.clicked.connect(self._overlay)
        refresh.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for b in (self.show_btn, self.overlay_btn, refresh):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(buttons)
        lay.addWidget(self.empty)
        lay.addWidget(self.table, 1)
        self._selection()

    def set_project_folder(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.refresh()

    def refresh(self) -> None:
        self.runs = list_runs(self.folder) if self.folder is not None else []
        self.table.setRowCount(len(self.runs))
        for r, run in enumerate(self.runs):
            best = run.best
            cells = [run.run_id, run.status, str(run.summary.get("best_epoch") or "–")]
            cells += [_fmt(best.get(key)) for _c, key in COLUMNS[3:7]]
            cells.append(recipe_text(run.config))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setData(Qt.UserRole, str(run.path))
                    item.setToolTip(str(run.path) + ("" if run.has_log else "\n(no event log: trained outside the "
                                                                          "app before logs were kept)"))
                self.table.setItem(r, c, item)
        self.empty.setVisible(not self.runs)
        self._selection()

    def selected(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [self.table.item(r, 0).data(Qt.UserRole) for r in rows]

    def select(self, run_dirs: list[str]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.MultiSelection)
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.UserRole) in run_dirs:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    def _selection(self) -> None:
        n = len(self.selected())
        self.show_btn.setEnabled(n == 1)
        self.overlay_btn.setEnabled(n == 2)

    def _show(self) -> None:
        sel = self.selected()
        if len(sel) == 1:
            self.showRun.emit(sel[0])

    def _overlay(self) -> None:
        sel = self.selected()
        if len(sel) == 2:
            self.overlayRuns.emit(sel[0], sel[1])
