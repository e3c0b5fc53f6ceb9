"""Compare view: ABAW scores of every track against a chosen reference, per video and for the project
(core.compare: the code of `affecttrace evaluate`), the sliding-window agreement of the selected row with
its worst segments (click one to jump there), "next disagreement", and CSV/PNG export."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.agreement.report import video_fps
from core.compare import (
    PROJECT_ROW,
    AgreementSeries,
    Segment,
    agreement_series,
    all_track_specs,
    comparison_rows,
    next_disagreement,
    track_pairs,
    worst_segments,
    write_table_csv,
)
from core.interchange.tracksel import find_track_name
from core.words import FUSED_TRACK

from ..background import Background, Task
from ..themes import Theme
from .compare_plots import TASK_NAMES, AgreementPlot, ScoreBars

if TYPE_CHECKING:
    from ..session import Session

COLUMNS = ("track", "task", "video", "frames", "score", "parts")
WORST_COUNT = 10


def fmt_score(v: float | None) -> str:
    if v is None:
        return "—"
    text = f"{v:.3f}"
    return "0.000" if text == "-0.000" else text


class CompareView(QWidget):
    seekRequested = Signal(str, int)  # video, frame
    pairChosen = Signal(str, str, str, str)  # track spec, reference spec, task, video of the selected row
    computed = Signal()  # the table shows the last comparison (or why there is none)

    def __init__(self, session: Session, theme: Theme | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.rows: list[dict] = []
        self.series: AgreementSeries | None = None
        self.series_video: str | None = None
        self.worst: list[Segment] = []
        top = QHBoxLayout()
        self.reference = QComboBox()
        self.reference.setMinimumContentsLength(12)
        self.window_s = QDoubleSpinBox()
        self.window_s.setRange(0.2, 60.0)
        self.window_s.setValue(2.0)
        self.window_s.setSuffix(" s window")
        self.compute_button = QPushButton("Compare")
        self.csv_button = QPushButton("Export CSV…")
        self.png_button = QPushButton("Export PNG…")
        for w in (QLabel("Reference"), self.reference, self.window_s, self.compute_button, self.csv_button,
                  self.png_button):
            top.addWidget(w)
        top.addStretch(1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setSelectionMode(QTableWidget.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.bars, self.agreement = ScoreBars(), AgreementPlot()
        self.plots = QSplitter(Qt.Vertical)
        self.plots.addWidget(self.bars)
        self.plots.addWidget(self.agreement)
        self.worst_list = QListWidget()
        self.worst_list.setToolTip("The windows of lowest agreement; click one to go there")
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.addWidget(QLabel("Worst segments"))
        side_lay.addWidget(self.worst_list)
        left = QSplitter(Qt.Vertical)  # two columns: the table reads in a dock of a 1280 px window
        left.addWidget(self.table)
        left.addWidget(side)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(self.plots)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([500, 400])  # the table gets the larger share (its score column in view)
        self.status = QLabel("")
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)
        self.bg: Background = Background(self)
        self._edited = False  # labels changed while a comparison ran
        self.compute_button.clicked.connect(lambda _checked=False: self.compute())
        session.labelsChanged.connect(lambda *_a: setattr(self, "_edited", self.bg.running("compare") is not None))
        self.csv_button.clicked.connect(lambda: self._ask_path("CSV table (*.csv)", ".csv", self.export_csv))
        self.png_button.clicked.connect(lambda: self._ask_path("PNG image (*.png)", ".png", self.export_png))
        self.table.currentCellChanged.connect(lambda row, *_a: self.select_row(row))
        self.worst_list.itemClicked.connect(self._jump)
        session.projectChanged.connect(self.refresh)
        session.tracksChanged.connect(lambda _v: self.refresh())
        if theme is not None:
            self.apply_theme(theme)
        self.refresh()

    # ------------------------------------------------------------------ choices
    def refresh(self) -> None:
        keep = self.reference.currentText()
        p = self.session.project
        specs = all_track_specs(p) if p is not None else []
        self.reference.clear()
        self.reference.addItems(specs)
        default = keep if keep in specs else self._default_reference(specs)
        if default:
            self.reference.setCurrentText(default)
        self._enable()

    def _default_reference(self, specs: list[str]) -> str:
        p = self.session.project
        fused = [find_track_name(p, v, fused=True) for v in p.videos] if p is not None else []
        return FUSED_TRACK if FUSED_TRACK in specs else next((f for f in fused if f), specs[0] if specs else "")

    def _enable(self) -> None:
        self.compute_button.setEnabled(self.reference.count() > 1)
        self.csv_button.setEnabled(bool(self.rows))
        self.png_button.setEnabled(bool(self.rows))

    # ------------------------------------------------------------------ computing
    def compute(self) -> Task | None:
        """Every track against the chosen reference, computed off the GUI thread (the project's reads are
        locked); the table fills when the rows arrive (``computed``). None: nothing to compare."""
        p, ref = self.session.project, self.reference.currentText()
        if p is None or not ref:
            self._show_rows([], ref)
            return None
        specs = all_track_specs(p)
        self._edited = False
        self.compute_button.setEnabled(False)
        self.status.setText(f"Comparing {len(specs) - 1} track(s) against {ref}…")
        return self.bg.submit(lambda: comparison_rows(p, specs, ref),
                              lambda rows, error: self._arrived(p, ref, rows, error), key="compare")

    def _arrived(self, project: object, ref: str, rows: list[dict] | None, error: str) -> None:
        if project is not self.session.project:  # another project since: its rows mean nothing here
            self.compute_button.setEnabled(self.reference.count() > 1)
            return
        self._show_rows(rows or [], ref)
        if error:  # a metric failing on odd data must not take the window down
            self.status.setText(f"Could not compare: {error}")
        elif self._edited:
            self.status.setText(self.status.text() + " Labels changed meanwhile: Compare again for them.")
        self.computed.emit()

    def _show_rows(self, rows: list[dict], ref: str) -> None:
        p = self.session.project
        self.rows = rows
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            cells = (r["track"], TASK_NAMES[r["task"]], r["video"], str(r["frames"]), fmt_score(r["score"]),
                     f"{r['part1']} {fmt_score(r['value1'])}, {r['part2']} {fmt_score(r['value2'])}")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j in (3, 4):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(i, j, item)
        self.bars.show_rows(self.rows)
        self._clear_series()
        if self.rows:
            self.status.setText(f"{len({r['track'] for r in self.rows})} track(s) against {ref}")
            row = self._first_row_of_video()
            with QSignalBlocker(self.table):
                self.table.selectRow(row)
            self.select_row(row)  # always redrawn: the same row number may hold a new pair
        elif p is not None:
            self.status.setText(f"Nothing to compare: no track shares labelled frames with {ref}.")
        self._enable()

    def _clear_series(self) -> None:
        self.series, self.series_video, self.worst = None, None, []
        self.worst_list.clear()
        self.agreement.show_series(None, [], 25.0, "Agreement over time")

    def _first_row_of_video(self) -> int:
        v = self.session.video
        return next((i for i, r in enumerate(self.rows) if r["video"] == v), 0)

    def select_row(self, row: int) -> None:
        """Draw the agreement series of a table row (a project row: on the current video) and list its
        worst segments."""
        if not 0 <= row < len(self.rows):
            return
        r, p = self.rows[row], self.session.project
        video = r["video"] if r["video"] != PROJECT_ROW else (self.session.video or next(iter(p.videos)))
        pair = track_pairs(p, r["track"], r["reference"], [video]).get(video)
        self.series, self.series_video, self.worst = None, video, []
        if pair is not None:
            fps = video_fps(p, video)
            self.series = agreement_series(pair[0], pair[1], r["task"], max(2, round(self.window_s.value() * fps)))
            self.worst = worst_segments(self.series, WORST_COUNT)
        fps = video_fps(p, video)
        self.agreement.show_series(self.series, self.worst, fps,
                                   f"{r['track']} vs {r['reference']}, {TASK_NAMES[r['task']]}, {video}")
        self.worst_list.clear()
        self.pairChosen.emit(r["track"], r["reference"], r["task"], video)
        for s in self.worst:
            item = QListWidgetItem(f"{s.start / fps:8.2f}–{s.stop / fps:.2f} s   {fmt_score(s.score)}")
            item.setData(Qt.UserRole, s.start)
            self.worst_list.addItem(item)

    # ------------------------------------------------------------------ navigation
    def _jump(self, item: QListWidgetItem) -> None:
        if self.series_video is not None:
            self.seekRequested.emit(self.series_video, int(item.data(Qt.UserRole)))

    def next_disagreement(self, frame: int) -> int | None:
        """Go to the next disagreement of the shown series after ``frame`` (wrapping); its frame or None."""
        if self.series is None or self.series_video is None:
            return None
        nxt = next_disagreement(self.series, frame, wrap=True)
        if nxt is not None:
            self.seekRequested.emit(self.series_video, nxt)
        return nxt

    # ------------------------------------------------------------------ export
    def export_csv(self, path: str | Path) -> None:
        write_table_csv(self.rows, path)
        self.status.setText(f"Table written to {path}")

    def export_png(self, path: str | Path) -> None:
        if not self.plots.grab().save(str(path), "PNG"):
            self.status.setText(f"Could not write {path}")
            return
        self.status.setText(f"Plots written to {path}")

    def _ask_path(self, kind: str, suffix: str, write: Callable[[str], None]) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export", f"comparison{suffix}", kind)
        if path:
            try:
                write(path)
            except OSError as e:
                self.status.setText(f"Could not write {path}: {e.strerror or e}")

    def apply_theme(self, t: Theme) -> None:
        self.bars.apply_theme(t)
        self.agreement.apply_theme(t)
