"""--annotator and --theme hold for the start they are given to: a later plain start asks who is
annotating (or uses the name last chosen in the app) and shows the saved theme."""
from __future__ import annotations

import pytest

from tests.realwindow.xsession import START_TIMEOUT_S, App

pytestmark = pytest.mark.gui


def _start(screen, demo, home, *args: str, name: str) -> tuple[App, dict]:
    """Start the app; its state once it shows a frame or asks something."""
    app = App(screen, [str(demo), *args], home, name=name)
    s = app.wait(lambda s: s.get("current", -1) >= 0 or s.get("modal"), "the window", START_TIMEOUT_S)
    return app, s


def test_command_line_options_do_not_stick(screen_1280, demo, tmp_path):
    home = tmp_path / "home"  # one person: the same settings for every start
    app, s = _start(screen_1280, demo, home, "--annotator", "ann_cli", "--theme", "dark", name="cli")
    try:
        assert s["modal"] is None and s["annotator"] == "ann_cli" and s["theme"] == "dark"
        assert app.quit() == 0
    finally:
        app.kill()

    app, s = _start(screen_1280, demo, home, name="plain")
    try:
        s = app.wait(lambda s: s.get("modal"), "the question who is annotating")
        assert s["modal"]["title"] == "Who is annotating?", "a plain start asks, the command line's name is gone"
        assert s["theme"] == "light", "--theme dark held for its start only"
        app.key("ctrl+a")
        app.type("alice")
        app.key("Return")
        s = app.wait(lambda s: s["annotator"] == "alice" and s.get("current", -1) >= 0, "annotating as alice")
        assert app.quit() == 0
    finally:
        app.kill()

    app, s = _start(screen_1280, demo, home, name="again")
    try:
        assert s["modal"] is None, "the name chosen in the app is used without asking"
        assert s["annotator"] == "alice" and s["theme"] == "light"
        assert app.quit() == 0
    finally:
        app.kill()
    for log in ("cli", "plain", "again"):
        err = (home / f"{log}.stderr.txt").read_text()
        assert "Traceback" not in err, err
