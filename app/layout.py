"""The main window's layout: the central video with transport and banner, the docks, the status bar.

Functions over the window (they set its widget attributes), so the window class keeps to wiring.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDockWidget, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .widgets.agreement_panel import AgreementPanel
from .widgets.au_panel import AUPanel
from .widgets.expr_panel import ExpressionPanel
from .widgets.project_browser import ProjectBrowser
from .widgets.transport import TransportBar
from .widgets.video_view import VideoView


def build_central(win) -> None:
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(4, 4, 4, 0)
    lay.setSpacing(4)
    win.banner = QLabel("")
    win.banner.setObjectName("banner")
    win.banner.setWordWrap(True)
    win.banner.hide()
    lay.addWidget(win.banner)
    win.video = VideoView()
    win.video.resized = win._video_resized
    lay.addWidget(win.video, 1)
    win.transport = TransportBar()
    lay.addWidget(win.transport)
    win.setCentralWidget(w)


def dock(win, title: str, name: str, widget: QWidget, area) -> QDockWidget:
    d = QDockWidget(title, win)
    d.setObjectName(name)
    d.setWidget(widget)
    d.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable | QDockWidget.DockWidgetClosable)
    win.addDockWidget(area, d)
    return d


def build_docks(win) -> None:
    win.setDockNestingEnabled(True)
    win.browser = ProjectBrowser()
    win.d_browser = dock(win, "Project", "dock_project", win.browser, Qt.LeftDockWidgetArea)
    jw = QWidget()
    jl = QVBoxLayout(jw)
    jl.setContentsMargins(4, 4, 4, 4)
    row = QHBoxLayout()
    win.rec_button = QPushButton("● Arm recording (R)")
    win.rec_button.setCheckable(True)
    win.rec_button.setFocusPolicy(Qt.NoFocus)
    win.rec_button.setToolTip("While armed, playing writes one sample per shown frame to your track")
    win.mode_box = QComboBox()
    win.mode_box.addItems(["2D", "valence only", "arousal only"])
    win.mode_box.setFocusPolicy(Qt.NoFocus)
    win.fill_box = QComboBox()
    win.fill_box.addItems(["overwrite", "fill unlabelled"])
    win.fill_box.setFocusPolicy(Qt.NoFocus)
    win.fill_box.setToolTip("Overwrite what is there, or only write frames not yet labelled")
    row.addWidget(win.rec_button, 1)
    row.addWidget(win.mode_box)
    row.addWidget(win.fill_box)
    jl.addLayout(row)
    jl.addWidget(win.joystick, 1)
    win.pad_status = QLabel("Gamepad: not started")
    win.pad_status.setObjectName("note")
    win.pad_status.setWordWrap(True)
    jl.addWidget(win.pad_status)
    win.d_joystick = dock(win, "Valence / arousal", "dock_joystick", jw, Qt.RightDockWidgetArea)
    win.expr_panel = ExpressionPanel()
    win.d_expr = dock(win, "Expression", "dock_expr", win.expr_panel, Qt.RightDockWidgetArea)
    win.au_panel = AUPanel()
    win.d_au = dock(win, "Action units", "dock_au", win.au_panel, Qt.RightDockWidgetArea)
    win.agreement = AgreementPanel()
    win.d_agree = dock(win, "Agreement", "dock_agreement", win.agreement, Qt.LeftDockWidgetArea)
    # pyqtgraph takes about a second to import: the timeline comes right after the window shows
    win.d_timeline = dock(win, "Timeline", "dock_timeline", QLabel("Loading the timeline…"),
                                 Qt.BottomDockWidgetArea)
    win.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)  # the joystick column runs full height
    win.tabifyDockWidget(win.d_expr, win.d_au)
    win.d_expr.raise_()
    win.splitDockWidget(win.d_browser, win.d_agree, Qt.Vertical)


def default_layout(win) -> None:
    """Dock sizes for the window's current size (first start, or --screenshot)."""
    h = win.height()
    win.resizeDocks([win.d_timeline], [int(h * 0.4)], Qt.Vertical)
    win.resizeDocks([win.d_joystick, win.d_expr], [int(h * 0.55), int(h * 0.45)], Qt.Vertical)
    win.resizeDocks([win.d_browser, win.d_agree], [int(h * 0.28), int(h * 0.32)], Qt.Vertical)
    win.resizeDocks([win.d_browser, win.d_joystick], [330, 390], Qt.Horizontal)


def build_status(win) -> None:
    sb = win.statusBar()
    win.st_frame = QLabel("")
    win.st_labels = QLabel("")
    win.st_user = QLabel("")
    win.st_rec = QLabel("")
    for w in (win.st_frame, win.st_labels):
        sb.addWidget(w)
    sb.addPermanentWidget(win.st_rec)
    sb.addPermanentWidget(win.st_user)
