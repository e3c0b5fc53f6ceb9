"""Legibility on real screen sizes (issue 16 §3), on the real widgets: every timeline row whole at full
scroll with the time scale fixed above it; in/out marks that leave the labels' colours as they are; the
strips' colours in the legend, the agreement strip's unlike any label's; track colours distinct under
colour-blind vision; the agreement panel's colour scale, lag wording and fusion controls in view at
1440x900; the joystick reading out the stick and the frame's label; the Training dock's plots whole; whole
tab names; the Project list saying whose coverage it shows; the shortcut sheet saying Undo / Redo."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTabBar, QWidget

from core.labels import EXPRESSIONS
from tests.gui_support import demo_copy, make_window, wait_frame

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot, tmp_path, tmp_path_factory):
    folder = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")
    w = make_window(qtbot, tmp_path, folder, annotator="ann1")
    qtbot.waitUntil(lambda: w.engine is not None, timeout=10000)
    yield w
    w.close()


def _rgb(colour: str) -> tuple[int, int, int]:
    c = QColor(colour)
    return c.red(), c.green(), c.blue()


def test_every_timeline_row_is_whole_at_full_scroll_and_the_time_scale_stays(qtbot, win) -> None:
    tl = win.views.timeline
    win.views.docks["dock_timeline"].raise_()
    tl.set_au_expanded(True)
    tl.add_strip("agreement", "agreement")
    tl.add_strip("suggested", "suggested")
    qtbot.wait(100)
    bar = tl.scroll.verticalScrollBar()
    assert bar.maximum() > 0, "the rows need more than the dock's height (a 1280x800 window)"
    scale_at = tl.axis_view.mapTo(tl, tl.axis_view.rect().topLeft())
    bar.setValue(bar.maximum())
    qtbot.wait(50)
    rows = len(tl._rows())
    bottom = tl.lanes.vb.mapViewToScene(QPointF(0, rows))  # the last row's lower edge
    top = tl.lanes.vb.mapViewToScene(QPointF(0, rows - 1))
    in_view = tl.view.mapFromScene(bottom).y()
    view_bottom = tl.scroll.viewport().mapTo(tl.view, tl.scroll.viewport().rect().bottomLeft()).y()
    assert tl.view.mapFromScene(top).y() >= 0 and in_view <= view_bottom + 1, "the last row (suggested) is whole"
    assert tl.axis_view.isVisible() and not tl.scroll.isAncestorOf(tl.axis_view)
    assert tl.axis_view.mapTo(tl, tl.axis_view.rect().topLeft()) == scale_at, "the time scale did not scroll"
    lo, hi = tl.wave.viewRange()[0]
    assert tl.time_scale.viewRange()[0] == pytest.approx([lo, hi]), "the scale reads the lanes' times"


def test_in_out_marks_keep_the_labels_colours(qtbot, win) -> None:
    tl, s = win.views.timeline, win.session
    happy = EXPRESSIONS.index("Happiness")
    s.push(s.set_labels("expr", 100, 300, happy))
    tl.flush()
    win.player.seek(0)
    wait_frame(qtbot, win, 0)
    tl.wave.setXRange(0, 20, padding=0)
    win.annot.set_in(150)
    win.annot.set_out(249)
    qtbot.wait(100)
    img = tl.view.grab().toImage()
    row = tl.view.mapFromScene(tl.lanes.vb.mapViewToScene(QPointF(0, 1.5))).y()  # the expression lane
    x0 = tl.view.mapFromScene(tl.lanes.vb.mapViewToScene(QPointF(160 / tl.fps, 0))).x()
    x1 = tl.view.mapFromScene(tl.lanes.vb.mapViewToScene(QPointF(240 / tl.fps, 0))).x()
    ratio = img.devicePixelRatio()
    pixels = [img.pixelColor(int(x * ratio), int(row * ratio)) for x in range(x0, x1)]
    want = QColor(_expr_colours()[happy])
    same = sum(p.rgb() == want.rgb() for p in pixels)
    assert same >= 0.6 * len(pixels), f"{same}/{len(pixels)} pixels inside in/out keep Happiness's colour"


def _expr_colours() -> tuple[str, ...]:
    from app import resources

    return resources.label_colours().expressions


def test_strip_colours_are_in_the_legend_and_unlike_any_label(qtbot, win) -> None:
    tl, t = win.views.timeline, win.theme
    tl.add_strip("agreement", "agreement")
    tl.set_strip_legend("agreement", [(t.disagree, "disagree"), (t.agree, "agree")])
    text = tl.legend_text.text()
    assert "agreement:" in text and t.disagree in text and "disagree" in text
    assert f"background-color:{t.unlabelled}" in text, "the unlabelled swatch is outlined, so it shows"
    tl.remove_strip("agreement")
    assert "agreement:" not in tl.legend_text.text()
    for name in ("light", "dark"):
        from app.themes import theme

        th = theme(name)
        for e, colour in zip(EXPRESSIONS, _expr_colours()):
            d = np.abs(np.subtract(_rgb(th.disagree), _rgb(colour))).sum()
            assert d > 150, f"{name}: the agreement strip's 'disagree' is close to {e}'s colour"


# Viénot, Brettel & Mollon (1999): how protanopes and deuteranopes see linear RGB
CVD = {"protan": np.array([[0.11238, 0.88762, 0.0], [0.11238, 0.88762, 0.0], [0.00401, -0.00401, 1.0]]),
       "deutan": np.array([[0.29275, 0.70725, 0.0], [0.29275, 0.70725, 0.0], [-0.02234, 0.02234, 1.0]])}
XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
CLEARLY_APART = 15.0  # CIELAB ΔE76: colours told apart at a glance


def _lab(colour: str, kind: str | None) -> np.ndarray:
    """CIELAB of ``colour`` as seen with normal vision (None) or a colour-vision deficiency."""
    c = np.array(_rgb(colour)) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    if kind is not None:
        lin = np.clip(CVD[kind] @ lin, 0, 1)
    x = (XYZ @ lin) / np.array([0.9505, 1.0, 1.089])
    f = np.where(x > 0.008856, np.cbrt(x), 7.787 * x + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_every_track_has_its_own_colour_under_colour_blind_vision(win) -> None:
    from app import resources

    tl = win.views.timeline
    c = resources.label_colours()
    shown = [tl.colour_of(t, k)[0] for k, t in enumerate(win.session.human_tracks())]
    assert shown == list(c.tracks[:len(shown)]), "the timeline reads the one palette (resources/palettes)"
    first = list(c.tracks[:5]) + [c.model]  # five annotators and the model side by side
    for kind in (None, "protan", "deutan"):
        for a, b in itertools.combinations(first, 2):
            d = float(np.linalg.norm(_lab(a, kind) - _lab(b, kind)))
            assert d > CLEARLY_APART, f"{a} and {b} look alike ({kind or 'normal'} vision: ΔE {d:.0f})"


def test_agreement_panel_scale_lags_and_fusion_controls_in_view_at_1440x900(qtbot, win) -> None:
    from app.widgets.agreement_tables import lag_rows

    win.resize(1440, 900)
    panel = win.views.agreement
    win.views.docks["dock_agreement"].show()
    win.views.docks["dock_agreement"].raise_()
    panel.computeRequested.emit()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=60000)
    qtbot.wait(100)
    assert panel.tables.scale.isVisible() and panel.tables.scale.height() > 10
    for w in (panel.save, panel.max_lag, panel.show_fused, panel.method):
        assert not panel.scroll.isAncestorOf(w) and not w.visibleRegion().isEmpty(), "below the fold"
    names = [panel.summary.item(r, 0).text() for r in range(panel.summary.rowCount())]
    lags = [n for n in names if n.startswith("lag ")]
    assert lags and all(" vs " in n for n in lags), lags
    assert lag_rows({"ann1": 0.5}, "labels")[0][2] == "ann1 reacts 0.50 s after the video (anchored on the " \
                                                      "expression/AU labels)"
    assert panel.window() is win


def test_joystick_reads_out_the_stick_and_the_frames_label(qtbot, win) -> None:
    js, own = win.views.joystick, win.session.track(create=False)
    win.player.seek(300)
    wait_frame(qtbot, win, 300)
    assert js.frame_va == pytest.approx(tuple(own.va[300]), abs=1e-6)
    js.set_value(0.25, -0.5)
    stick, frame = js.readout()
    assert stick == "stick V +0.25  A -0.50"
    assert frame == f"frame V {own.va[300, 0]:+.2f}  A {own.va[300, 1]:+.2f}"
    s = win.session
    s.push(s.set_labels("va", 300, 301, np.array([np.nan, np.nan], np.float32)))
    win.display.refresh()
    assert js.readout()[1] == "frame: unlabelled"


def test_joystick_readout_hides_no_anchor_word(qtbot) -> None:
    """The readout once sat over the field's top-left corner and hid "afraid" and "alert": it is drawn under
    the field and its valence words now, and every anchor word lies inside the field, at any dock size."""
    from PySide6.QtCore import QRectF

    from app.widgets.joystick import AXIS_LINE, CIRCUMPLEX_ANCHORS, READOUT_LINE, JoystickField

    js = JoystickField()
    qtbot.addWidget(js)
    for w, h in ((180, 200), (200, 200), (260, 300), (420, 260), (300, 600)):
        js.resize(w, h)
        field = js._field()
        readout = QRectF(0, field.bottom() + AXIS_LINE, w, 2 * READOUT_LINE)
        assert readout.bottom() <= h and field.top() >= 0 and field.width() >= 100, (w, h, field)
        for name, v, a in CIRCUMPLEX_ANCHORS:
            pt = js._to_px(v * 0.92, a * 0.92)
            word = QRectF(pt.x() - 30, pt.y() - 7, 60, 14)
            assert field.contains(pt) and not word.intersects(readout), (name, w, h)


def test_docks_show_whole_plots_and_tab_names(qtbot, win) -> None:
    from app.themes import theme

    for key in ("compare", "suggestions", "accept"):
        win.engine.show_dock(key)
    tr = win.engine.training
    tr.dock.show()
    qtbot.wait(100)  # tabbed beside the timeline once shown
    tr.dock.raise_()
    qtbot.waitUntil(lambda: not tr.panel.dashboard.loss.viewport().visibleRegion().isEmpty(), timeout=5000)
    dash = tr.panel.dashboard
    for plot in (dash.loss, dash.metrics, dash.au):
        view = plot.viewport()  # a plot's own region is covered by its viewport
        r = view.visibleRegion().boundingRect()
        assert r.height() == view.height() and plot.height() >= 150, "the Training dock shows its plots whole"
    bars = [b for b in win.findChildren(QTabBar) if b.isVisible() and b.count()]
    assert bars
    for b in bars:
        assert b.elideMode() == Qt.ElideNone
        for i in range(b.count()):
            assert b.fontMetrics().horizontalAdvance(b.tabText(i)) <= b.tabRect(i).width(), b.tabText(i)
    win.set_theme("dark")
    qtbot.wait(100)
    legend = dash.metrics.getPlotItem().legend
    assert all(QColor(label.opts["color"]) == QColor(theme("dark").plot_fg) for _s, label in legend.items), \
        "the validation legend is in the theme's text colour, not pale grey"


def test_project_list_says_whose_coverage_it_shows(win) -> None:
    b = win.views.browser
    assert "your labels (ann1)" in b.coverage.text()
    assert "ann1" in b.tree.headerItem().toolTip(2)


def test_the_shortcut_sheet_says_undo_and_redo(qtbot, win) -> None:
    s = win.session
    s.push(s.set_labels("expr", 10, 20, 3))
    assert win.registry["undo"].text() != "Undo"  # the menu names the step to undo
    rows = {(m, t) for m, _k, t in win.registry.shortcut_rows()}
    assert ("Edit", "Undo") in rows and ("Edit", "Redo") in rows
    assert not any(t.startswith("Undo ") or t.startswith("Redo ") for _m, t in rows)


def test_views_keep_qwidget_window(win) -> None:
    assert isinstance(win.views.agreement.window(), QWidget)
