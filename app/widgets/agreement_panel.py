"""Agreement panel: pairwise agreement, summary coefficients and reaction lags of the video's annotators,
and a fused track (EWE for valence-arousal, majority vote for expressions and AUs) to show or save."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.tracks import Track, TrackSource

TASK_CHOICES = (("valence", "va", 0), ("arousal", "va", 1), ("expression", "expr", None), ("action units", "au", None))


def agreement_tables(tracks: Sequence[Track], task: str, column: int | None, fps: float) -> dict:
    """Pairwise matrix, summary coefficients and lags (continuous only) from core.agreement/core.metrics."""
    from core.agreement import cohen_kappa, estimate_lags, fleiss_kappa, icc, krippendorff_alpha, pairwise
    from core.metrics import ccc

    names = [t.name for t in tracks]
    out: dict = {"names": names, "summary": {}, "lags": None}
    if task == "va":
        r = np.stack([t.va[:, column] for t in tracks]).astype(np.float64)
        out["pair_name"] = "CCC"
        out["pairwise"] = pairwise(r, ccc)
        out["summary"]["Krippendorff α (interval)"] = krippendorff_alpha(r, "interval")
        out["summary"].update({k: v for k, v in icc(r).items() if k in ("ICC2", "ICC3k")})
        if len(tracks) >= 2:
            lags = estimate_lags({t.name: t.va for t in tracks}, fps)
            out["lags"] = lags.lags_s
    elif task == "expr":
        r = np.stack([t.expr for t in tracks]).astype(np.int64)
        out["pair_name"] = "Cohen κ"
        out["pairwise"] = pairwise(r, cohen_kappa)
        out["summary"]["Fleiss κ"] = fleiss_kappa(r)
        out["summary"]["Krippendorff α (nominal)"] = krippendorff_alpha(r, "nominal")
    else:
        au = np.stack([t.au for t in tracks]).astype(np.int64)  # raters, n, k
        out["pair_name"] = "Cohen κ (mean over AUs)"
        mats = [pairwise(au[:, :, k], cohen_kappa) for k in range(au.shape[2])]
        with np.errstate(all="ignore"):
            out["pairwise"] = np.nanmean(np.stack(mats), axis=0) if mats else np.full((len(names),) * 2, np.nan)
        for k, name in enumerate(tracks[0].au_names):
            out["summary"][f"{name} Fleiss κ"] = fleiss_kappa(au[:, :, k])
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


def _fmt(x: float) -> str:
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

    def choice(self) -> tuple[str, int | None]:
        _label, task, col = TASK_CHOICES[self.task.currentIndex()]
        return task, col

    def show_result(self, res: dict | None, message: str = "") -> None:
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
