"""The start page, shown while no project is open: recent projects, open a video or a project, the demo."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .. import resources


class StartPage(QWidget):
    openVideoRequested = Signal()
    openProjectRequested = Signal()
    openDemoRequested = Signal()
    recentChosen = Signal(str)  # a project folder

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QGridLayout(self)
        card = QFrame()
        card.setObjectName("startCard")
        card.setMaximumWidth(640)
        card.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        outer.addWidget(card, 1, 1)
        outer.setRowStretch(0, 1)
        outer.setRowStretch(2, 2)
        outer.setColumnStretch(0, 1)
        outer.setColumnStretch(2, 1)
        lay = QVBoxLayout(card)
        lay.setContentsMargins(28, 24, 28, 24)
        lay.setSpacing(10)
        head = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(resources.app_icon().pixmap(QSize(56, 56)))
        head.addWidget(logo)
        titles = QVBoxLayout()
        title = QLabel("AffectTrace")
        title.setObjectName("heading")
        sub = QLabel("Trace valence and arousal, label expressions and action units frame by frame.")
        sub.setObjectName("note")
        sub.setWordWrap(True)
        titles.addWidget(title)
        titles.addWidget(sub)
        head.addLayout(titles, 1)
        lay.addLayout(head)
        self.message = QLabel("")
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.message.hide()
        lay.addWidget(self.message)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, icon, signal in (("video", "Open a video…", "open-video", self.openVideoRequested),
                                        ("project", "Open a project…", "open-project", self.openProjectRequested),
                                        ("demo", "Open the demo", "demo", self.openDemoRequested)):
            b = QPushButton(text)
            b.setIcon(resources.icon(icon, self.palette().buttonText().color().name()))
            b.setIconSize(QSize(20, 20))
            b.setMinimumHeight(36)
            b.clicked.connect(signal.emit)
            row.addWidget(b)
            self.buttons[key] = b
        lay.addLayout(row)
        recent = QLabel("Recent projects")
        recent.setObjectName("subheading")
        lay.addWidget(recent)
        self.recent = QListWidget()
        self.recent.setObjectName("recentList")
        self.recent.itemActivated.connect(lambda it: self.recentChosen.emit(it.data(Qt.UserRole)))
        lay.addWidget(self.recent)
        self.no_recent = QLabel("None yet: a project you open is listed here.")
        self.no_recent.setObjectName("note")
        lay.addWidget(self.no_recent)

    def set_recent(self, folders: list[str]) -> None:
        self.recent.clear()
        for f in folders:
            p = Path(f)
            it = QListWidgetItem(f"{p.name}    {p.parent}")
            it.setData(Qt.UserRole, f)
            it.setToolTip(f)
            if not (p / "project.json").exists():
                it.setText(f"{p.name}    {p.parent}    (not found)")
                it.setFlags(it.flags() & ~Qt.ItemIsEnabled)
            self.recent.addItem(it)
        rows = min(max(len(folders), 1), 8)  # as tall as its entries (up to 8), not an empty box
        self.recent.setFixedHeight(rows * self.recent.sizeHintForRow(0) + 2 * self.recent.frameWidth() + 4
                                   if folders else 0)
        self.recent.setVisible(bool(folders))
        self.no_recent.setVisible(not folders)

    def show_message(self, text: str) -> None:
        """Say why nothing is open (e.g. the project asked for could not be opened); '' hides it."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def retint(self, colour: str) -> None:
        """Icons in the theme's text colour."""
        for key, icon in (("video", "open-video"), ("project", "open-project"), ("demo", "demo")):
            self.buttons[key].setIcon(resources.icon(icon, colour))
