"""Project browser: videos with label coverage for the current annotator, missing media, annotators."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QListWidget,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import AffectTraceError
from core.labels import TASKS
from core.project import Project

from ..themes import Theme, theme

COLUMNS = ("Video", "Frames", "VA", "Expr", "AU", "Media")


def fmt_share(x: float | None) -> str:
    """Coverage as a whole percentage; a little labelled is "<1%" (never a stale-looking "0%"), nearly all
    ">99%" (never a premature "100%")."""
    if x is None:
        return "—"
    if 0 < x < 0.005:
        return "<1%"
    return ">99%" if 0.995 <= x < 1 else f"{100 * x:.0f}%"


class ProjectBrowser(QWidget):
    videoActivated = Signal(str)
    relocateRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel("No project")
        self.title.setWordWrap(True)
        f = self.title.font()
        f.setBold(True)
        self.title.setFont(f)
        lay.addWidget(self.title)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QTreeWidget.ExtendedSelection)
        self.tree.header().setSectionResizeMode(0, QHeaderView.Stretch)
        for c in range(1, len(COLUMNS)):
            self.tree.header().setSectionResizeMode(c, QHeaderView.ResizeToContents)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemDoubleClicked.connect(self._activated)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        lay.addWidget(self.tree, 3)
        self.coverage = QLabel("")  # whose coverage the VA/Expr/AU columns are
        self.coverage.setObjectName("note")
        self.coverage.setWordWrap(True)
        lay.addWidget(self.coverage)
        lay.addWidget(QLabel("Annotators"))
        self.annotators = QListWidget()
        self.annotators.setMaximumHeight(110)
        lay.addWidget(self.annotators, 1)
        self.note = QLabel("")
        self.note.setObjectName("note")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.setMinimumWidth(220)
        self.error_colour = theme("light").error

    def apply_theme(self, t: Theme) -> None:
        self.error_colour = t.error

    def populate(self, project: Project | None, annotator: str, current: str | None) -> None:
        """Refill from the project: coverage of ``annotator``'s own track per video and task."""
        self.tree.clear()
        self.annotators.clear()
        if project is None:
            self.title.setText("No project")
            self.coverage.setText("")
            return
        self.title.setText(f"{project.name}  ·  AU set {project.au_set.name} ({len(project.au_set)} AUs)")
        whose = f"your labels ({annotator})" if annotator else "your labels (no annotator chosen)"
        self.coverage.setText(f"VA, Expr, AU: the share of frames with {whose}")
        for c, task in zip(range(2, 2 + len(TASKS)), ("valence-arousal", "expression", "action unit")):
            self.tree.headerItem().setToolTip(c, f"Frames of the video with your {task} labels ({annotator or '—'})")
        missing = 0
        for name, entry in project.videos.items():
            is_missing = project.is_missing(name)
            missing += is_missing
            it = QTreeWidgetItem([name, str(entry.frame_count)] + [""] * len(TASKS)
                                 + ["missing: right-click to relocate" if is_missing else "ok"])
            it.setData(0, Qt.UserRole, name)
            it.setToolTip(0, f"{entry.media}\n{entry.width}x{entry.height}, {entry.fps} fps, split {entry.split}")
            for c in range(1, len(COLUMNS)):
                it.setTextAlignment(c, Qt.AlignRight | Qt.AlignVCenter)
            if is_missing:
                it.setForeground(5, QBrush(QColor(self.error_colour)))
                it.setToolTip(5, f"Media not found: {project.media_path(name)}")
            if name == current:
                f = it.font(0)
                f.setBold(True)
                it.setFont(0, f)
            self.tree.addTopLevelItem(it)
            self._show_coverage(it, project, annotator, name)
        for a in project.annotators:
            self.annotators.addItem(f"{a}  (you)" if a == annotator else a)
        ro = f"Read-only: {project.readonly_reason or f'held by {project.lock_holder}'}. " if project.readonly else ""
        self.note.setText(ro + (f"{missing} video(s) with missing media." if missing else ""))

    def update_coverage(self, project: Project, annotator: str, name: str) -> None:
        """The coverage cells of one video (after edits)."""
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.data(0, Qt.UserRole) == name:
                self._show_coverage(it, project, annotator, name)

    def _show_coverage(self, it: QTreeWidgetItem, project: Project, annotator: str, name: str) -> None:
        cov = {t: None for t in TASKS}
        if annotator and project.has_track(name, annotator):
            try:
                cov = project.track(name, annotator).coverage()
            except AffectTraceError:  # an unreadable track is reported where it is opened
                pass
        for c, t in enumerate(TASKS, start=2):
            it.setText(c, fmt_share(cov[t]))

    def _activated(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        self.videoActivated.emit(item.data(0, Qt.UserRole))

    def _menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        name = item.data(0, Qt.UserRole)
        m = QMenu(self)
        m.addAction("Open", lambda: self.videoActivated.emit(name))
        m.addAction("Relocate media…", lambda: self.relocateRequested.emit(name))
        m.exec(self.tree.viewport().mapToGlobal(pos))

    def selected(self) -> list[str]:
        """The videos selected in the list (Ctrl/Shift-click selects several)."""
        return [it.data(0, Qt.UserRole) for it in self.tree.selectedItems()]

    def select(self, name: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.data(0, Qt.UserRole) == name:
                self.tree.setCurrentItem(it)
