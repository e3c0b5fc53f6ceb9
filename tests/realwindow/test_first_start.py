"""A first start (nothing saved yet) on a 1280x800 and a 1920x1080 screen, in both themes: the whole
window, the window manager's frame included, is on the screen, and so is the status bar."""
from __future__ import annotations

import pytest

from tests.realwindow.xsession import App, XServer

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module", params=[(1280, 800), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def screen(request, tmp_path_factory):
    x = XServer(*request.param, tmp_path_factory.mktemp("xscreen"))
    yield x
    x.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_first_start_fits_the_screen(screen, demo, tmp_path, theme):
    app = App(screen, [str(demo), "--annotator", "tester", "--theme", theme], tmp_path / "home")
    try:
        s = app.wait_ready()
        width, height = screen.size
        fx, fy, fw, fh = screen.frame_rect(app.window_id)
        assert fw > 0.8 * min(width, 1440) and fh > 0.8 * min(height, 900), "a usable size, not a small window"
        assert fx >= 0 and fy >= 0 and fx + fw <= width and fy + fh <= height, (
            f"the window with its frame at {fx},{fy} {fw}x{fh} leaves the {width}x{height} screen")
        sx, sy, sw, sh = s["status_bar"]
        assert sy + sh <= height and sx + sw <= width, f"the status bar ({s['status_bar']}) is cut off"
        assert s["theme"] == theme
        assert app.quit() == 0
    finally:
        app.kill()
    assert "Traceback" not in app.stderr(), app.stderr()
