"""The campaign dock: the annotator's queue of assigned videos with "Next assigned video", the lead's progress
table (annotator x video: coverage per task, time spent, agreement so far) and assigning videos and tasks."""
from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.labels import TASKS
from core.project.campaign import QueueItem

from .project_browser import fmt_share

TASK_TITLES = {"va": "VA", "expr": "Expr", "au": "AU"}
STATUS_COLUMNS = ("Annotator", "Video", "Assigned", *(TASK_TITLES[t] for t in TASKS), "Time", "Edits", "VA CCC",
                  "Expr κ")


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def score(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def queue_line(q: QueueItem) -> str:
    """'video003 · VA 40%, EXPR 0%' (with ✓ when every assigned task is done)."""
    cov = ", ".join(f"{TASK_TITLES[t]} {fmt_share(q.coverage[t])}" for t in q.tasks)
    return f"{'✓ ' if q.done else ''}{q.video} · {cov}"


def wrapped(text: str) -> QLabel:
    """A label that wraps (a long one must not widen the dock column it sits in)."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class CampaignPanel(QWidget):
    videoActivated = Signal(str)
    nextRequested = Signal()
    refreshRequested = Signal()
    assignRequested = Signal(object, object, bool)  # annotators (list[str]), tasks (list[str]), take back

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.queue_title = wrapped("Your queue")
        lay.addWidget(self.queue_title)
        self.queue = QListWidget()
        self.queue.setMaximumHeight(100)
        self.queue.itemActivated.connect(self._activated)
        self.queue.itemDoubleClicked.connect(self._activated)
        lay.addWidget(self.queue)
        self.next = QPushButton("Next assigned video")
        self.next.clicked.connect(self.nextRequested)
        lay.addWidget(self.next)
        lay.addWidget(wrapped("Assign the videos selected in the Project list (or the one shown) to:"))
        arow = QHBoxLayout()
        self.who = QLineEdit()
        self.who.setPlaceholderText("annotators, comma-separated")
        arow.addWidget(self.who, 1)
        self.task_boxes = {t: QCheckBox(TASK_TITLES[t]) for t in TASKS}
        for box in self.task_boxes.values():
            box.setChecked(True)
            arow.addWidget(box)
        lay.addLayout(arow)
        brow = QHBoxLayout()
        self.assign = QPushButton("Assign")
        self.assign.clicked.connect(lambda: self._assign(False))
        self.take_back = QPushButton("Take back")
        self.take_back.clicked.connect(lambda: self._assign(True))
        brow.addWidget(self.assign)
        brow.addWidget(self.take_back)
        lay.addLayout(brow)
        self.note = QLabel("")
        self.note.setObjectName("note")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        row = QHBoxLayout()
        row.addWidget(wrapped("Progress (as each annotator last saved)"), 1)
        self.refresh = QPushButton("Refresh")
        self.refresh.clicked.connect(self.refreshRequested)
        row.addWidget(self.refresh)
        lay.addLayout(row)
        self.table = QTableWidget(0, len(STATUS_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(STATUS_COLUMNS))
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.setSortingEnabled(True)
        lay.addWidget(self.table, 1)
        self.totals = QLabel("")
        self.totals.setObjectName("note")
        self.totals.setWordWrap(True)
        lay.addWidget(self.totals)

    def _activated(self, item: QListWidgetItem) -> None:
        self.videoActivated.emit(item.data(Qt.UserRole))

    def _assign(self, remove: bool) -> None:
        names = [n.strip() for n in self.who.text().split(",") if n.strip()]
        tasks = [t for t, box in self.task_boxes.items() if box.isChecked()]
        self.assignRequested.emit(names, tasks, remove)

    def show_queue(self, annotator: str, items: Sequence[QueueItem], current: str | None) -> None:
        done = sum(q.done for q in items)
        self.queue_title.setText(f"Your queue ({annotator}): {done} of {len(items)} done" if items
                                 else f"Your queue ({annotator}): nothing assigned to you")
        self.queue.clear()
        for q in items:
            it = QListWidgetItem(queue_line(q))
            it.setData(Qt.UserRole, q.video)
            if q.video == current:
                f = it.font()
                f.setBold(True)
                it.setFont(f)
            self.queue.addItem(it)
        self.next.setEnabled(any(not q.done for q in items))

    def show_status(self, st: dict[str, Any] | None) -> None:
        """``core.project.campaign.status`` as a table (None: no team project)."""
        self.table.setSortingEnabled(False)
        rows = (st or {}).get("rows", [])
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = [r["annotator"], r["video"], "+".join(TASK_TITLES[t] for t in r["assigned"]) or "—",
                     *(fmt_share(r["coverage"].get(t)) for t in TASKS), minutes(float(r["seconds"])),
                     str(r["edits"]), score(r["agreement"].get("va_ccc")), score(r["agreement"].get("expr_kappa"))]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(i, c, item)
        self.table.setSortingEnabled(True)
        tot = (st or {}).get("annotators", {})
        self.totals.setText("  ·  ".join(f"{a}: {t['done_videos']}/{t['assigned_videos']} done, "
                                         f"{minutes(float(t['seconds']))}" for a, t in tot.items()))

    def cell(self, row: int, column: str) -> str:
        """The text of a progress table cell (by column title)."""
        item = self.table.item(row, STATUS_COLUMNS.index(column))
        return item.text() if item is not None else ""
