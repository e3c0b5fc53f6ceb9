"""Agreement panel: pairwise agreement, summary coefficients and reaction lags of the video's annotators,
and the fused track (core.agreement.fuse, as `affecttrace fuse`) to show or save."""
from __future__ import annotations

import warnings

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.agreement.defaults import DEFAULT_MAX_LAG_S
from core.agreement.fuse import METHODS
from core.labels import VA_NAMES
from core.words import FUSED_TRACK

from .. import resources
from ..themes import Theme
from .agreement_tables import AgreementTables, AgreementWindow

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


class AgreementPanel(QWidget):
    """Task choice and Compute; the tables (heat map and summary); fusion options with Show / Save fused.
    The fusion options are those of `affecttrace fuse`; ``fusion_options()`` gives them as its keywords."""

    showFusedChanged = Signal(bool)
    saveFusedRequested = Signal()
    computeRequested = Signal()
    fusionOptionsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # never sideways: the content fits the width
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        lay = QVBoxLayout(body)
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
        self.enlarge = QToolButton()
        self.enlarge.setToolTip("Open the tables in a larger window")
        self.enlarge.setFocusPolicy(Qt.NoFocus)
        self.enlarge.clicked.connect(self.open_window)
        row.addWidget(self.task, 1)
        row.addWidget(self.compute)
        row.addWidget(self.enlarge)
        lay.addLayout(row)
        self.note = QLabel("Needs two or more annotators on this video.")
        self.note.setObjectName("note")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.tables = AgreementTables()
        lay.addWidget(self.tables)
        lay.addStretch(1)
        # the fusion controls sit under the scrolled tables, always in view (a short dock at 1440x900 too)
        foot = QWidget()
        foot_lay = QVBoxLayout(foot)
        foot_lay.setContentsMargins(6, 4, 6, 6)
        outer.addWidget(foot)
        fuse = QLabel("Fused track (as `affecttrace fuse`)")
        fuse.setObjectName("subheading")
        foot_lay.addWidget(fuse)
        row = QHBoxLayout()
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.method.setCurrentText("ewe")
        self.method.setToolTip("ewe / mean: valence-arousal that way, expressions and AUs by majority vote; "
                               "vote: expressions and AUs only")
        self.lag = QCheckBox("lag-compensate")
        self.lag.setToolTip("Shift each annotator's valence-arousal by its estimated reaction lag first")
        self.max_lag = QDoubleSpinBox()
        self.max_lag.setRange(0.5, 20.0)
        self.max_lag.setSingleStep(0.5)
        self.max_lag.setValue(DEFAULT_MAX_LAG_S)
        self.max_lag.setSuffix(" s")
        self.max_lag.setToolTip("Largest reaction lag searched when lag-compensating")
        for w in (self.method, self.lag):  # the max lag box takes the keyboard when clicked: a number field
            w.setFocusPolicy(Qt.NoFocus)  # owns its keys (app/key_filter.py), so typing never labels
        self.method.currentIndexChanged.connect(lambda _i: self.fusionOptionsChanged.emit())
        self.lag.toggled.connect(lambda _on: self.fusionOptionsChanged.emit())
        self.max_lag.valueChanged.connect(lambda _v: self.fusionOptionsChanged.emit())
        row.addWidget(self.method)
        row.addWidget(QLabel("max lag"))
        row.addWidget(self.max_lag)
        row.addStretch(1)
        foot_lay.addLayout(row)
        foot_lay.addWidget(self.lag)
        row = QHBoxLayout()
        self.show_fused = QCheckBox("Show fused track")
        self.show_fused.setFocusPolicy(Qt.NoFocus)
        self.show_fused.toggled.connect(self.showFusedChanged.emit)
        self.save = QPushButton("Save fused")
        self.save.setFocusPolicy(Qt.NoFocus)
        self.save.setToolTip("Write the fused track 'fused' into the project")
        self.save.clicked.connect(self.saveFusedRequested.emit)
        self.fusing = QLabel("fusing…")
        self.fusing.setObjectName("note")
        self.fusing.hide()
        row.addWidget(self.show_fused, 1)
        row.addWidget(self.fusing)
        row.addWidget(self.save)
        foot_lay.addLayout(row)
        self.busy = False
        self.big_window: AgreementWindow | None = None
        self.retint("#000000")

    @property
    def result(self) -> dict | None:
        return self.tables.result

    @property
    def table(self) -> QTableWidget:
        return self.tables.table

    @property
    def summary(self) -> QTableWidget:
        return self.tables.summary

    def choice(self) -> tuple[str, int | None]:
        _label, task, col = TASK_CHOICES[self.task.currentIndex()]
        return task, col

    def fusion_options(self) -> dict:
        """Keyword arguments of core.agreement.fuse.fuse_video / fused_track."""
        return {"method": self.method.currentText(), "tasks": None, "lag_compensate": self.lag.isChecked(),
                "max_lag_s": float(self.max_lag.value()), "lag_reference": None, "name": FUSED_TRACK}

    def set_busy(self, on: bool) -> None:
        """While a computation runs: the button is disabled and the note says so."""
        self.busy = on
        self.compute.setEnabled(not on)
        if on:
            self.note.setText("computing…")

    def set_fusing(self, on: bool) -> None:
        """While a fusion runs: Save is disabled and a note says so."""
        self.save.setEnabled(not on)
        self.fusing.setVisible(on)

    def show_report(self, entry: dict, task: str, column: int | None, message: str = "") -> None:
        """Show one task of a video entry of the agreement report."""
        res = display_tables(entry, task, column)
        self.show_result(res, message if res is not None else "Needs two or more annotators with labels.")

    def show_result(self, res: dict | None, message: str = "") -> None:
        self.note.setText(message)
        self.tables.show_result(res)
        if self.big_window is not None:
            self.big_window.caption.setText(f"{self.task.currentText()}: {message}")
            self.big_window.tables.show_result(res)

    def apply_theme(self, t: Theme) -> None:
        self.tables.apply_theme(t)
        if self.big_window is not None:
            self.big_window.tables.apply_theme(t)
        self.retint(t.text)

    def retint(self, colour: str) -> None:
        self.enlarge.setIcon(resources.icon("expand", colour))

    def open_window(self) -> AgreementWindow:
        if self.big_window is None:
            self.big_window = AgreementWindow(self)
            self.big_window.tables.apply_theme(self.tables.theme)
        self.big_window.caption.setText(f"{self.task.currentText()}: {self.note.text()}")
        self.big_window.tables.show_result(self.tables.result)
        self.big_window.show()
        self.big_window.raise_()
        return self.big_window
