"""The main window's widgets, built once into one typed object (``WindowViews``): the start page, the
central page (the video with its banner and transport), the docks and the status bar."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .controls import ARM_TEXT
from .widgets.agreement_panel import AgreementPanel
from .widgets.au_panel import AUPanel
from .widgets.expr_panel import ExpressionPanel
from .widgets.joystick import MODE_LABELS, JoystickField
from .widgets.live_text import LiveText
from .widgets.project_browser import ProjectBrowser
from .widgets.start_page import StartPage
from .widgets.transport import TransportBar
from .widgets.video_view import VideoView

if TYPE_CHECKING:
    from .widgets.timeline import Timeline



@dataclass
class WindowViews:
    """Every widget of the main window. ``timeline`` is None until attach_timeline (pyqtgraph loads late)."""

    start_page: StartPage  # over the whole window while no project is open
    page: QWidget  # the central page: banner, video, transport
    banner: QLabel
    video: VideoView
    transport: TransportBar
    browser: ProjectBrowser
    joystick: JoystickField
    rec_button: QPushButton
    mode_box: QComboBox
    fill_box: QComboBox
    pad_status: QLabel
    expr_panel: ExpressionPanel
    au_panel: AUPanel
    agreement: AgreementPanel
    st_frame: LiveText
    st_labels: LiveText
    st_user: QLabel
    st_rec: QLabel
    docks: dict[str, QDockWidget] = field(default_factory=dict)  # by object name, e.g. "dock_timeline"
    timeline: "Timeline | None" = None


def _stretching(w: LiveText) -> LiveText:
    w.setMinimumWidth(120)  # long text is cut, never widens the window
    return w


def _joystick_page(joystick: JoystickField) -> tuple[QWidget, QPushButton, QComboBox, QComboBox, QLabel]:
    jw = QWidget()
    jl = QVBoxLayout(jw)
    jl.setContentsMargins(4, 4, 4, 4)
    rec = QPushButton(ARM_TEXT)
    rec.setObjectName("armButton")
    rec.setCheckable(True)
    rec.setFocusPolicy(Qt.NoFocus)
    rec.setToolTip("While armed, playing writes one valence-arousal sample per shown frame to your track")
    rec.setMinimumWidth(60)
    rec.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
    mode = QComboBox()
    mode.addItems([label for _m, label in MODE_LABELS])
    mode.setFocusPolicy(Qt.NoFocus)
    mode.setToolTip("What the joystick records: both dimensions, or one")
    fill = QComboBox()
    fill.addItems(["overwrite", "fill unlabelled"])
    fill.setFocusPolicy(Qt.NoFocus)
    fill.setToolTip("Overwrite what is there, or only write frames not yet labelled")
    jl.addWidget(rec)
    row = QHBoxLayout()
    row.addWidget(mode, 1)
    row.addWidget(fill, 1)
    jl.addLayout(row)
    jl.addWidget(joystick, 1)
    pad = QLabel("Gamepad: not started")
    pad.setObjectName("note")
    pad.setWordWrap(True)
    jl.addWidget(pad)
    return jw, rec, mode, fill, pad


def build_views(win: QMainWindow) -> WindowViews:
    """Create every widget of ``win``, put them in place and return them."""
    start = StartPage(win)  # not in a layout: it covers the window, never sizes it
    start.setAutoFillBackground(True)
    page = QWidget()
    lay = QVBoxLayout(page)
    lay.setContentsMargins(4, 4, 4, 0)
    lay.setSpacing(4)
    banner = QLabel("")
    banner.setObjectName("banner")
    banner.setWordWrap(True)
    banner.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    banner.hide()
    lay.addWidget(banner)
    video = VideoView()
    lay.addWidget(video, 1)
    transport = TransportBar()
    lay.addWidget(transport)
    win.setCentralWidget(page)

    joystick = JoystickField()
    jw, rec, mode, fill, pad = _joystick_page(joystick)
    v = WindowViews(start_page=start, page=page, banner=banner, video=video, transport=transport,
                    browser=ProjectBrowser(), joystick=joystick, rec_button=rec, mode_box=mode, fill_box=fill,
                    pad_status=pad, expr_panel=ExpressionPanel(), au_panel=AUPanel(), agreement=AgreementPanel(),
                    st_frame=LiveText(sample="frame 0000000  ·  0:00:00.00  ·  29.97 fps  ·  0.25x"),
                    st_labels=_stretching(LiveText()), st_user=QLabel(""), st_rec=QLabel(""))
    win.setDockNestingEnabled(True)
    for title, name, widget, area in (
            ("Project", "dock_project", v.browser, Qt.LeftDockWidgetArea),
            ("Valence / arousal", "dock_joystick", jw, Qt.RightDockWidgetArea),
            ("Expression", "dock_expr", v.expr_panel, Qt.RightDockWidgetArea),
            ("Action units", "dock_au", v.au_panel, Qt.RightDockWidgetArea),
            ("Agreement", "dock_agreement", v.agreement, Qt.LeftDockWidgetArea),
            # pyqtgraph takes about a second to import: the timeline comes right after the window shows
            ("Timeline", "dock_timeline", QLabel("Loading the timeline…"), Qt.BottomDockWidgetArea)):
        v.docks[name] = make_dock(win, title, name, widget, area)
    d = v.docks
    win.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)  # the joystick column runs full height
    win.tabifyDockWidget(d["dock_expr"], d["dock_au"])
    d["dock_expr"].raise_()
    win.splitDockWidget(d["dock_project"], d["dock_agreement"], Qt.Vertical)  # tabbed on first show
    sb = win.statusBar()
    sb.addWidget(v.st_frame)
    sb.addWidget(v.st_labels, 1)
    sb.addPermanentWidget(v.st_rec)
    sb.addPermanentWidget(v.st_user)
    return v


def make_dock(win: QMainWindow, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea | None) -> QDockWidget:
    """A dock of ``win``, added to ``area`` (None: not yet, e.g. to restore its saved place first)."""
    d = QDockWidget(title, win)
    d.setObjectName(name)
    d.setWidget(widget)
    d.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable | QDockWidget.DockWidgetClosable)
    if area is not None:
        win.addDockWidget(area, d)
    return d


def tab_left_column(win: QMainWindow, v: WindowViews) -> None:
    """Project and Agreement share the left column as tabs (each gets its full height). Run when the
    window is first shown: Qt 6.11 leaves a stale tab bar painted over the window when a second group of
    docks is tabified before then."""
    d = v.docks
    if d["dock_agreement"] not in win.tabifiedDockWidgets(d["dock_project"]):
        win.tabifyDockWidget(d["dock_project"], d["dock_agreement"])
        d["dock_project"].raise_()


def default_layout(win: QMainWindow, v: WindowViews) -> None:
    """Dock sizes for the window's current size (first start, or --screenshot)."""
    h, w = win.height(), win.width()
    d = v.docks
    win.resizeDocks([d["dock_timeline"]], [int(h * 0.5)], Qt.Vertical)
    win.resizeDocks([d["dock_joystick"], d["dock_expr"]], [int(h * 0.55), int(h * 0.45)], Qt.Vertical)
    win.resizeDocks([d["dock_project"], d["dock_joystick"]], [int(w * 0.22), int(w * 0.25)], Qt.Horizontal)
