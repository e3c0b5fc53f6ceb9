"""Real windows (Xvfb, openbox, xdotool) for issue 16 §2-3: the demo's first start is made in the
background while the window answers real input (a menu opens and closes), then opens; at 1440x900 the
Agreement tab's fusion controls are in view, not below the fold; no traceback reaches stderr."""
from __future__ import annotations

import pytest

from tests.realwindow.xsession import App, XServer

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def screen_1440(tmp_path_factory):
    x = XServer(1440, 900, tmp_path_factory.mktemp("x1440"))
    yield x
    x.close()


def test_first_demo_start_keeps_the_window_answering(screen_1280, tmp_path, monkeypatch):
    monkeypatch.setenv("AFFECTTRACE_DEMO_SECONDS", "60")  # long enough to be still making it below
    app = App(screen_1280, ["--annotator", "tester"], tmp_path / "home")
    try:
        s = app.wait(lambda s: s.get("making_demo"), "the demo being made in the background", 120)
        assert s["project"] is None
        app.wait_ready(frame=False)
        app.menu("Help")  # a real click while the demo is made: the menu opens at once
        s = app.wait(lambda s: any(m["menu"] == "Help" for m in s["menus"]), "the Help menu to open")
        assert s["making_demo"], "the menu opened while the demo was still being made"
        app.key("Escape")
        app.wait(lambda s: not any(m["menu"] == "Help" for m in s["menus"]), "the menu to close")
        s = app.wait(lambda s: s["project"] is not None and s["current"] >= 0, "the demo to open", 300)
        assert s["project"].endswith("demo") and not s["making_demo"] and s["errors"] == []
        assert app.quit() == 0
    finally:
        app.kill()
    assert "Traceback" not in app.stderr(), app.stderr()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_fusion_controls_in_view_at_1440x900(screen_1440, demo, tmp_path, theme):
    app = App(screen_1440, [str(demo), "--annotator", "tester", "--theme", theme], tmp_path / "home")
    try:
        s = app.wait_ready()
        tab = next(t for t in s["tabs"] if t["text"] == "Agreement")
        app.click(tab["rect"])
        s = app.wait(lambda s: _button(s, "Compute") is not None, "the Agreement tab's Compute button")
        app.click(_button(s, "Compute")["rect"])  # the tables come: the controls below must stay in view
        app.wait(lambda s: s["agreement_shown"], "the agreement tables", 120)
        s = app.wait(lambda s: any(f["dock"] == "dock_agreement" and f["rect"] for f in s["fields"]),
                     "the Agreement tab's fields on screen")
        lag = next(f for f in s["fields"] if f["dock"] == "dock_agreement" and f["class"] == "QDoubleSpinBox")
        x, y, w, h = lag["rect"]
        assert h >= 15 and y + h <= s["screen"][3] and y + h <= s["window"][1] + s["window"][3], lag
        for text in ("Save fused",):
            b = _button(s, text, shown=False)
            assert b is not None and b["whole"], f"{text!r} is below the fold: {b}"
        tabs = [t for t in s["tabs"] if t["rect"][2] > 0]
        assert all(not t["text"].endswith("…") for t in tabs)
        assert app.quit() == 0
    finally:
        app.kill()
    assert "Traceback" not in app.stderr(), app.stderr()


def _button(state: dict, text: str, shown: bool = True) -> dict | None:
    return next((b for b in state["buttons"] if b["dock"] == "dock_agreement" and b["text"] == text
                 and (b["rect"] or not shown)), None)
