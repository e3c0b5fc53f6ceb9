"""Agreement panel: pairwise agreement, summary coefficients and reaction lags of the video's annotators,
and a fused track (EWE for valence-arousal, majority vote for expressions and AUs) to show or save."""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.labels import VA_NAMES
from core.tracks import Track, TrackSource

TASK_CHOICES = (("valence", "va", 0), ("arousal", "va", 1), ("expression", "expr", None), ("action units", "au", None))


def _num(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _matrix(names: list[str], m: dict) -> np.ndarray:
    return np.array([[np.nan if a == b else _num(m[a].get(b)) for b in names] for a in names], np.float64)


def display_tables(entry: dict, task: str, column: int | None) -> dict | None:
    """What the panel shows for one task of a video entry of core.agreement.report (``video_agreement``,
    the `affecttrace agreement` tables): names, pairwise matrix, summary coefficients and VA lags."""
    t = entry.get(task)
    if t is None:
        return None
    names = list(t["annotators"])
    out: dict = {"names": names, "summary": {}, "lags": None}
    if task == "va":
        d = t[VA_NAMES[column or 0]]
        out["pair_name"] = "CCC"
        out["pairwise"] = _matrix(names, d["ccc"])
        out["summary"]["Krippendorff α (interval)"] = d["krippendorff_alpha"]
        out["summary"]["Cronbach α"] = d["cronbach_alpha"]
        out["summary"].update({k: d["icc"][k] for k in ("ICC(2,1)", "ICC(3,1)", "ICC(2,k)")})
        lags = entry.get("lags")
        if lags:
            out["lags"] = dict(lags["lags_s"])
            out["lag_basis"] = lags["basis"]
    elif task == "expr":
        out["pair_name"] = "Cohen κ"
        out["pairwise"] = _matrix(names, t["cohen_kappa"])
        out["summary"]["Fleiss κ"] = t["fleiss_kappa"]
        out["summary"]["Krippendorff α (nominal)"] = t["krippendorff_alpha"]
    else:
        out["pair_name"] = "Cohen κ (mean over AUs)"
        mats = [_matrix(names, p["cohen_kappa"]) for p in t["per_au"].values()]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # a pair with no finite κ on any AU: NaN
            out["pairwise"] = np.nanmean(np.stack(mats), axis=0) if mats else np.full((len(names),) * 2, np.nan)
        out["summary"]["Fleiss κ (mean over AUs)"] = t["fleiss_kappa"]
        out["summary"]["Krippendorff α (mean over AUs)"] = t["krippendorff_alpha"]
        for name, p in t["per_au"].items():
            out["summary"][f"{name} Fleiss κ"] = p["fleiss_kappa"]
    return out


def fused_track(tracks: Sequence[Track], video: str, name: str = "fused") -> Track:
    """EWE valence-arousal, majority-vote expression and AUs of the given human tracks."""
    from core.agreement import ewe_fusion, majority_vote

    n = min(t.n_frames for t in tracks)
    va, _w = ewe_fusion(np.stack([t.va[:n] for t in tracks]))
    expr = majority_vote(np.stack([t.expr[:n] for t in tracks]))
    au = majority_vote(np.stack([t.au[:n] for t in tracks]))
    src = TrackSource.fused(va="ewe", expr="majority", au="majority", raters=[t.name for t in tracks])
    return Track(video, name, src, tracks[0].au_names, va.astype(np.float32), expr, au)


def _fmt(x: float | None) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.3f}"


class AgreementPanel(QWidget):
    showFusedChanged = Signal(bool)
    saveFusedRequested = Signal()
    computeRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.task = QComboBox()
        for label, _t, _c in TASK_CHOICES:
            self.task.addItem(label)
        self.task.setFocusPolicy(Qt.NoFocus)
        self.compute = QPushButton("Compute")
        self.compute.setFocusPolicy(Qt.NoFocus)
        self.compute.clicked.connect(self.computeRequested.emit)
        self.task.currentIndexChanged.connect(lambda _i: self.computeRequested.emit())
        row.addWidget(self.task, 1)
        row.addWidget(self.compute)
        lay.addLayout(row)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setFocusPolicy(Qt.NoFocus)
        lay.addWidget(self.table, 2)
        self.summary = QTableWidget(0, 2)
        self.summary.setHorizontalHeaderLabels(["", "value"])
        self.summary.verticalHeader().hide()
        self.summary.horizontalHeader().setStretchLastSection(True)
        self.summary.setEditTriggers(QTableWidget.NoEditTriggers)
        self.summary.setFocusPolicy(Qt.NoFocus)
        lay.addWidget(self.summary, 2)
        row = QHBoxLayout()
        self.show_fused = QCheckBox("Show fused track")
        self.show_fused.setFocusPolicy(Qt.NoFocus)
        self.show_fused.toggled.connect(self.showFusedChanged.emit)
        save = QPushButton("Save fused")
        save.setFocusPolicy(Qt.NoFocus)
        save.setToolTip("Write the fused track (EWE / majority vote) into the project")
        save.clicked.connect(self.saveFusedRequested.emit)
        row.addWidget(self.show_fused, 1)
        row.addWidget(save)
        lay.addLayout(row)
        self.note = QLabel("Needs two or more annotators on this video.")
        self.note.setObjectName("note")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.busy = False
        self.result: dict | None = None

    def choice(self) -> tuple[str, int | None]:
        _label, task, col = TASK_CHOICES[self.task.currentIndex()]
        return task, col

    def set_busy(self, on: bool) -> None:
        """While a computation runs: the button is disabled and the note says so."""
        self.busy = on
        self.compute.setEnabled(not on)
        if on:
            self.note.setText("computing…")

    def show_report(self, entry: dict, task: str, column: int | None, message: str = "") -> None:
        """Show one task of a video entry of the agreement report."""
        res = display_tables(entry, task, column)
        self.show_result(res, message if res is not None else "Needs two or more annotators with labels.")

    def show_result(self, res: dict | None, message: str = "") -> None:
        self.result = res
        self.note.setText(message)
        if res is None:
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            self.summary.setRowCount(0)
            return
        names, m = res["names"], res["pairwise"]
        self.table.setRowCount(len(names))
        self.table.setColumnCount(len(names))
        self.table.setHorizontalHeaderLabels(names)
        self.table.setVerticalHeaderLabels(names)
        for i in range(len(names)):
            for j in range(len(names)):
                it = QTableWidgetItem("" if i == j else _fmt(m[i, j]))
                it.setTextAlignment(Qt.AlignCenter)
                self.table.setItem(i, j, it)
        self.table.resizeColumnsToContents()
        rows = [(f"pairwise: {res['pair_name']}", "")] + [(k, _fmt(v)) for k, v in res["summary"].items()]
        if res.get("lags"):
            rows += [(f"lag {k}", f"{v:.2f} s") for k, v in res["lags"].items()]
        self.summary.setRowCount(len(rows))
        for r, (k, v) in enumerate(rows):
            self.summary.setItem(r, 0, QTableWidgetItem(k))
            self.summary.setItem(r, 1, QTableWidgetItem(v))
        self.summary.resizeColumnToContents(0)
