"""The window as a whole: it never grows on its own; bad media are refused before anything is made;
the project table follows edits; the status bar tells the true speed and frame rate; the overlay says
when there is no face cache; each video's position is remembered; a project that cannot be opened
leaves the start page, which opens recent projects."""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTabBar

from tests.gui_support import demo_copy, make_window, wait_frame

pytestmark = pytest.mark.gui


@pytest.fixture
def demo(tmp_path, tmp_path_factory) -> Path:
    return demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")


def test_the_window_never_grows_on_its_own(qtbot, tmp_path, demo):
    win = make_window(qtbot, tmp_path, None)
    assert win.size().width() == 1280 and win.height() == 800
    sizes = [("start page", win.width())]
    assert win.open_project(demo)
    wait_frame(qtbot, win, 0)
    qtbot.wait(300)
    sizes.append(("project open", win.width()))
    win.annot.set_armed(True)
    qtbot.wait(100)
    sizes.append(("armed", win.width()))
    with qtbot.waitSignal(win.themeChanged) as changed:
        win.set_theme("dark")
    assert changed.args[0].name == "dark" and win.theme.name == "dark"
    qtbot.wait(100)
    sizes.append(("dark", win.width()))
    win.views.transport.note.setText("a very long note " * 20)
    win.statusBar().showMessage("a very long message " * 30)
    win.views.st_labels.setText("VA +0.10 / -0.20  ·  expr Happiness  ·  AU " + " ".join(f"AU{i}" for i in range(40)))
    qtbot.wait(100)
    sizes.append(("long texts", win.width()))
    win.views.au_panel.set_aus(tuple(f"AU{i}" for i in range(1, 28)))  # a large AU set
    win.views.timeline.set_lane_track(win.session.track())
    qtbot.wait(100)
    sizes.append(("27 AUs", win.width()))
    assert all(w == 1280 for _what, w in sizes), sizes
    assert win.minimumSizeHint().width() <= 1280
    win.annot.set_armed(False)
    win.close()


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["empty", "text", "fifo"])
def test_bad_media_is_refused_before_anything_is_made(qtbot, tmp_path, kind):
    folder = tmp_path / "videos"
    folder.mkdir()
    bad = folder / "clip.mp4"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "text":
        bad.write_text("this is not a video\n" * 50)
    else:
        _fifo(bad)
    win = make_window(qtbot, tmp_path, None)
    assert not win.open_video_file(bad)
    assert win.errors and "clip.mp4" in win.errors[-1] and "\n" not in win.errors[-1]
    assert sorted(p.name for p in folder.iterdir()) == ["clip.mp4"], "no project folder, no lock left behind"
    assert win.views.start_page.isVisible() and "clip.mp4" in win.views.start_page.message.text()
    win.close()


def test_project_table_coverage_follows_edits(qtbot, tmp_path, demo):
    win = make_window(qtbot, tmp_path, demo)
    cell = lambda: win.views.browser.tree.topLevelItem(0).text(3)  # noqa: E731  Expr coverage
    assert cell() in ("—", "0%")
    s = win.session
    n = win.player.n_frames
    s.push(s.set_labels("expr", 7, 8, 4))  # one frame
    qtbot.waitUntil(lambda: cell() == "<1%", timeout=5000)
    s.push(s.set_labels("expr", 0, 53, 4))
    qtbot.waitUntil(lambda: cell() == f"{100 * 53 / n:.0f}%", timeout=5000)
    s.stack.undo()
    s.stack.undo()
    qtbot.waitUntil(lambda: cell() == "0%", timeout=5000)
    s.push(s.set_labels("expr", 0, n - 1, 4))
    qtbot.waitUntil(lambda: cell() == ">99%", timeout=5000)
    win.close()


def test_status_bar_speed_and_true_frame_rate(qtbot, tmp_path):
    from tests.videogen import make_video

    clip = make_video(tmp_path / "ntsc.mp4", n=60, fps=Fraction(24000, 1001))
    win = make_window(qtbot, tmp_path, None)
    assert win.open_video_file(clip)
    wait_frame(qtbot, win, 0)
    status = win.views.st_frame.text()
    assert "23.976 fps" in status and "1x" in status
    win.player.set_speed(1.5)
    assert "1.5x" in win.views.st_frame.text()
    win.player.set_speed(1.0)  # reset while paused
    assert "1.5x" not in win.views.st_frame.text() and win.views.st_frame.text().endswith("1x")
    win.close()


def test_overlay_action_says_when_there_is_no_face_cache(qtbot, tmp_path, demo):
    win = make_window(qtbot, tmp_path, demo)
    a = win.registry["overlay"]
    assert not a.isEnabled() and "no face cache" in a.text()
    win.close()


def test_position_of_each_video_is_remembered(qtbot, tmp_path, demo):
    win = make_window(qtbot, tmp_path, demo)
    win.player.seek(123)
    wait_frame(qtbot, win, 123)
    win.close()
    win2 = make_window(qtbot, tmp_path, None)
    assert win2.open_project(demo)
    wait_frame(qtbot, win2, 123)
    assert win2.views.transport.readout.text().split()[0] == "123"
    win2.close()


def test_a_project_that_cannot_open_leaves_the_start_page(qtbot, tmp_path, demo):
    win = make_window(qtbot, tmp_path, None)
    sp = win.views.start_page
    assert sp.isVisible() and not win.windowIcon().isNull()
    assert not win.open_project(tmp_path / "no-such-project")
    assert sp.isVisible() and "no-such-project" in sp.message.text()
    for d in win.views.docks.values():  # it covers the window, docks included
        if d.isVisible() and not d.visibleRegion().isEmpty():  # (a dock behind another's tab is elsewhere)
            assert sp.geometry().contains(d.geometry()), d.objectName()
    assert win.open_project(demo)
    assert not sp.isVisible() and win.views.docks["dock_timeline"].isVisible()
    win.close_project()
    assert sp.isVisible() and win.session.project is None
    assert sp.recent.count() == 1 and sp.recent.item(0).data(Qt.UserRole) == str(demo.resolve())
    sp.recent.itemActivated.emit(sp.recent.item(0))
    assert win.session.project is not None and not sp.isVisible()
    tabs = [t for t in win.findChildren(QTabBar) if t.isVisible() and t.count()]
    assert len({tuple(t.tabText(i) for i in range(t.count())) for t in tabs}) == len(tabs), "no stray tab bar"
    win.close()


def test_settings_file_keeps_the_layout_saved_with_a_project(qtbot, tmp_path, demo):
    """Closing on the start page (docks hidden) must not save a layout without docks."""
    win = make_window(qtbot, tmp_path, demo)
    win.close()
    win2 = make_window(qtbot, tmp_path, None)
    win2.close()
    win3 = make_window(qtbot, tmp_path, demo)
    assert all(win3.views.docks[n].isVisible() for n in ("dock_timeline", "dock_joystick", "dock_expr"))
    win3.close()
    assert QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat).value("window/state") is not None


def test_a_first_start_fits_the_screen(qtbot, tmp_path, monkeypatch):
    """No saved geometry: the default size, cut to the screen's free area less room for the window
    manager's frame (a 1280x800 laptop must not get a window running off its edge); the real frame on a
    real screen is checked by tests/realwindow/test_first_start.py."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QScreen

    from app import resources
    from app.main_window import FRAME_ROOM, MainWindow
    from app.settings import Settings

    w, h = resources.defaults()["window_size"]
    room_w, room_h = FRAME_ROOM.left() + FRAME_ROOM.right(), FRAME_ROOM.top() + FRAME_ROOM.bottom()
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(0, 0, w - 160, h - 100))
    win = MainWindow(Settings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)), interactive=False)
    qtbot.addWidget(win)
    assert (win.width(), win.height()) == (w - 160 - room_w, h - 100 - room_h)
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(0, 0, w + 500, h + 300))
    roomy = MainWindow(Settings(QSettings(str(tmp_path / "t.ini"), QSettings.IniFormat)), interactive=False)
    qtbot.addWidget(roomy)
    assert (roomy.width(), roomy.height()) == (w, h), "a large screen gets the default size"
