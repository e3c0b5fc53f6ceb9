"""Readable views: timeline lanes legible for any AU set (minimum row height, a foldable AU group, scrolling,
a legend, an empty state), the strip/band API other modules use, the agreement tables sized to their
content as a heat map (and in a larger window), the armed button's contrast, and resources/."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFontMetrics

from core.labels import AU_PRESETS, EXPRESSIONS
from core.tracks import Track, TrackSource
from tests.gui_support import demo_copy, make_window

pytestmark = pytest.mark.gui


def _track(name: str, n: int, aus) -> Track:
    t = Track.empty("v", name, TrackSource.human(name), n, aus)
    t.va[:, 0] = np.sin(np.arange(n) / 20)
    t.va[:, 1] = np.cos(np.arange(n) / 30)
    t.expr[100:300] = 4
    t.au[:200] = 0
    t.au[50:120, 1] = 1
    return t


@pytest.fixture
def timeline(qtbot):
    from app.widgets.timeline import Timeline

    tl = Timeline()
    qtbot.addWidget(tl)
    tl.resize(1000, 300)
    tl.show()
    return tl


def _scene_y(plot, y: float) -> float:
    return plot.vb.mapViewToScene(QPointF(0, y)).y()


def test_lanes_stay_legible_for_a_large_au_set(qtbot, timeline):
    tl = timeline
    assert tl.stack.currentIndex() == 0 and "No video" in tl.empty.text(), "an empty timeline says so"
    aus = tuple(f"AU{i}" for i in range(1, 28))  # 27 AUs
    tl.set_video(500, 25.0)
    assert tl.stack.currentIndex() == 1
    tl.set_tracks([_track("a", 500, aus)])
    tl.set_lane_track(tl._tracks["a"])
    qtbot.wait(50)
    rows = 2 + len(aus)
    assert tl.view.minimumHeight() > tl.scroll.viewport().height(), "more rows than room: the timeline scrolls"
    assert tl.scroll.verticalScrollBar().maximum() > 0
    tl.resize(1000, tl.view.minimumHeight() + 120)  # room for everything: check the drawn sizes
    qtbot.wait(100)
    row_px = abs(_scene_y(tl.lanes, rows) - _scene_y(tl.lanes, 0)) / rows
    font_px = QFontMetrics(tl.lanes.getAxis("left").style["tickFont"]).height()
    assert row_px >= tl.row_height - 0.5 and font_px <= row_px, (row_px, font_px)
    ticks = [name for _pos, name in tl.lanes.getAxis("left")._tickLevels[0]]
    assert ticks == ["VA", "expression", *aus]
    # valence's -1 and arousal's +1 labels are at least a text line apart
    gap = _scene_y(tl.aro, 1.0) - _scene_y(tl.val, -1.0)
    assert gap >= QFontMetrics(tl.font()).height(), gap
    tl.set_au_expanded(False)  # fold the AU group: one summary row
    assert [n for _p, n in tl.lanes.getAxis("left")._tickLevels[0]] == ["VA", "expression", "AUs (27)"]
    assert tl._lanes.shape[0] == 3
    present = QColor(tl.theme.au_present)
    assert tuple(tl._lanes[2, 60, :3]) == (present.red(), present.green(), present.blue())
    for name in EXPRESSIONS:  # the legend names every expression colour
        assert name in tl.legend_text.text()


def test_strip_and_band_api(qtbot, timeline):
    tl = timeline
    tl.set_video(400, 25.0)
    tl.set_tracks([_track("a", 400, AU_PRESETS["affwild2-8"])])
    tl.set_lane_track(tl._tracks["a"])
    tl.add_strip("agree", "agreement (5 s)", "sliding-window CCC")
    values = np.linspace(0, 1, 400)
    values[:10] = np.nan
    tl.set_strip_values("agree", values)
    img = tl._strips["agree"][2].image
    assert img.shape == (1, 400, 4)
    blank = QColor(tl.theme.unlabelled)
    assert tuple(img[0, 5, :3]) == (blank.red(), blank.green(), blank.blue())
    assert tuple(img[0, 399, :3]) != tuple(img[0, 11, :3])
    tl.add_strip("suggest", "suggested", "")
    tl.set_strip_segments("suggest", [(100, 150, "#ff0000")])
    seg = tl._strips["suggest"][2].image
    assert tuple(seg[0, 120]) == (255, 0, 0, 255) and tuple(seg[0, 99]) != (255, 0, 0, 255)
    ticks = [n for _p, n in tl.lanes.getAxis("left")._tickLevels[0]]
    assert ticks[-2:] == ["agreement (5 s)", "suggested"]
    with pytest.raises(ValueError):
        tl.add_strip("agree", "again")
    with pytest.raises(ValueError):
        tl.set_strip_colours("agree", np.zeros((10, 4), np.uint8))
    tl.add_band("conf", "valence", np.full(400, -0.2), np.full(400, 0.3), "#00897b")
    assert tl.bands() == ["conf"]
    tl.remove_strip("suggest")
    assert tl.strips() == ["agree"]
    tl.set_video(200, 25.0)  # another video: strips and bands belong to the old one
    assert tl.strips() == [] and tl.bands() == []


def test_agreement_tables_fit_their_content_as_a_heat_map(qtbot, tmp_path, tmp_path_factory):
    demo = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")
    win = make_window(qtbot, tmp_path, demo)
    win.views.docks["dock_agreement"].raise_()
    win.resizeDocks([win.views.docks["dock_agreement"]], [260], Qt.Horizontal)  # a narrow dock
    panel = win.views.agreement
    panel.compute.click()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=60000)
    view = panel.scroll.viewport()
    assert panel.width() <= 280, panel.width()
    for table in (panel.table, panel.summary):
        _all_rows_show(table)
        assert table.mapTo(view, table.rect().topRight()).x() <= view.width(), "the table fits the dock's width"
        for r in range(table.rowCount()):  # every value whole (names may be cut with "…"; tooltips are whole)
            for c in range(0 if table is panel.table else 1, table.columnCount()):
                it = table.item(r, c)
                if it is not None and it.text():
                    assert table.fontMetrics().horizontalAdvance(it.text()) <= table.columnWidth(c), it.text()
                    assert table.columnViewportPosition(c) + table.columnWidth(c) <= table.viewport().width()
    m, names = panel.result["pairwise"], panel.result["names"]
    cells = {(i, j): panel.table.item(i, j).background().color() for i in range(len(names))
             for j in range(len(names)) if i != j}
    lo, hi = min(cells, key=lambda k: m[k]), max(cells, key=lambda k: m[k])
    if m[hi] - m[lo] > 0.1:
        assert cells[lo] != cells[hi], "a heat map: different values, different colours"
    big = panel.open_window()
    qtbot.waitExposed(big)
    assert big.isVisible() and big.tables.result is panel.result
    assert big.tables.table.item(0, 1).text() == panel.table.item(0, 1).text()
    for table in (big.tables.table, big.tables.summary):  # its larger font: still every row
        _all_rows_show(table)
    big.close()
    win.close()


def _all_rows_show(table) -> None:
    """Every row lies inside the table's viewport: nothing hidden, no vertical scroll needed."""
    last = table.rowCount() - 1
    assert table.rowViewportPosition(last) + table.rowHeight(last) <= table.viewport().height(), table.objectName()


def _luminance(hex_colour: str) -> float:
    c = QColor(hex_colour)
    ch = [x / 255 for x in (c.red(), c.green(), c.blue())]
    lin = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in ch]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_armed_button_reads_clearly_in_both_themes(qtbot, tmp_path, tmp_path_factory):
    from app.controls import ARMED_TEXT
    from app.themes import THEMES, theme

    for name in THEMES:
        t = theme(name)
        assert _contrast(t.armed_fg, t.armed_bg) >= 4.5, name  # WCAG AA for normal text
        assert _contrast(t.accent_text, t.accent) >= 4.5, name
        assert _contrast(t.text, t.window) >= 7, name
    demo = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")
    win = make_window(qtbot, tmp_path, demo)
    win.annot.set_armed(True)
    b = win.views.rec_button
    assert b.isChecked() and b.text() == ARMED_TEXT and "record" in ARMED_TEXT.lower()
    assert b.objectName() == "armButton" and "#armButton:checked" in win.styleSheet() + _app_sheet()
    win.annot.set_armed(False)
    win.close()


def _app_sheet() -> str:
    from PySide6.QtWidgets import QApplication

    return QApplication.instance().styleSheet()


def test_resources_are_complete_and_load_through_one_module(qtbot):
    from dataclasses import fields

    from app import resources
    from app.themes import THEMES, Theme

    root = resources.root()
    assert root == Path(__file__).resolve().parents[1] / "resources"
    keys = {f.name for f in fields(Theme)} - {"name"}
    for name in THEMES:
        assert set(resources.palette(name)) == keys, name
        sheet = resources.stylesheet(name)
        assert "@" not in sheet.split("*/", 1)[1], "every colour token resolved"
    c = resources.label_colours()
    assert len(c.expressions) == len(EXPRESSIONS) and len(set(c.expressions)) == len(EXPRESSIONS)
    for svg in sorted((root / "icons").glob("*.svg")):
        icon = resources.icon(svg.stem, "#123456")
        assert not icon.isNull() and not icon.pixmap(24, 24).toImage().isNull(), svg.name
    assert not resources.app_icon().isNull()
    d = resources.defaults()
    assert d["theme"] in THEMES and len(d["window_size"]) == 2
    with pytest.raises(FileNotFoundError):
        resources.path("icons", "no-such-icon.svg")
    import app

    app_dir = Path(app.__file__).parent
    others = [p for p in app_dir.rglob("*.py") if p.name != "resources.py" and "resources/" in p.read_text()
              and "open(" in p.read_text()]
    assert not others, "only app/resources.py opens files under resources/"
