"""Labels change only when the annotator means it, in a real window driven with real keys and clicks.

One app start (a first start on a 1280x800 screen) runs the whole script below; the tests then check
what the saved project holds, and what the window showed on the way:

1. a pass from a pause at frame 0 (the stick held at bottom left) writes frame 0 onward;
2. typing into every text and number field of every dock (hidden docks shown from View > Panels,
   tabs clicked) neither labels, steps, seeks, plays nor clears the marks; Esc leaves the field;
3. I, step, O, Ctrl+L (loop on), Esc (clear marks) ends the loop; a pass from P = 525 then writes
   525 onward and nothing in the old range;
4. a loop that is on never pulls a pass started outside its range into it;
5. Home with the joystick focused, during an armed pass, centres the stick and keeps playing on.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.realwindow.xsession import App

pytestmark = pytest.mark.gui

# typed into each field; Esc last: it leaves the field, the keyboard back with the video (not "Clear marks")
FIELD_KEYS = ("4", "0", "q", "shift+4", "Return", "KP_Enter", "Home", "End", "BackSpace", "Delete", "Right",
              "Left", "Up", "Down", "space", "Prior", "Next", "bracketright", "backslash", "n", "Escape")
SEEK = 250  # where the field checks run: Home, End and steps would move away from it
LOOP = (100, 150)  # the marks set, looped and cleared
PASS_AFTER_CLEARED_LOOP = 525
KEPT_LOOP = (700, 725)
PASS_OUTSIDE_LOOP = 850
JOYSTICK_PASS = 300
PASS_FRAMES = 20  # each pass runs at least this many frames


def _goto(app: App, frame: int) -> None:
    """Move with the keys a person uses: Home, then Ctrl+Right (5 s), Shift+Right (1 s), Right (a frame)."""
    app.key("Home")
    app.wait(lambda s: s["position"] == 0, "frame 0")
    s5, rest = divmod(frame, 125)
    s1, frames = divmod(rest, 25)
    keys = ["ctrl+Right"] * s5 + ["shift+Right"] * s1 + ["Right"] * frames
    if keys:
        app.key(*keys)
    app.wait(lambda s: s["position"] == frame, f"frame {frame}")


def _focus_video(app: App) -> None:
    app.click(app.state()["video_rect"])
    app.wait(lambda s: s["focus"] and s["focus"]["class"] == "VideoView", "the video to take the keys")


def _record(app: App, start: int, until=None) -> dict:
    """Arm (R), play (Space) from ``start`` until ``until(state)`` (default: PASS_FRAMES on), pause, disarm."""
    app.key("r")
    app.wait(lambda s: s["armed"], "recording armed")
    app.key("space")
    app.wait(lambda s: s["playing"], "playback")
    done = app.wait(until or (lambda s: s["position"] >= start + PASS_FRAMES), "the pass to run on")
    app.key("space")
    app.wait(lambda s: not s["playing"], "pause")
    app.key("r")
    app.wait(lambda s: not s["armed"], "recording disarmed")
    return done


def _show_hidden_docks(app: App) -> None:
    """View > Panels > each unchecked panel (a click each, as a person opens them)."""
    app.menu("View", "Panels")
    panels = app.wait(lambda s: any(m["menu"] == "Panels" for m in s["menus"]), "the Panels menu")
    items = [m for m in panels["menus"] if m["menu"] == "Panels"]
    hidden = [m["text"] for m in items if not m["checked"]]
    app.key("Escape", "Escape")
    app.wait(lambda s: not [m for m in s["menus"] if m["menu"]], "the menus to close")
    for text in hidden:
        app.menu("View", "Panels", text)
        app.wait(lambda s: not [m for m in s["menus"] if m["menu"]], f"panel {text} shown")


def _type_into_fields(app: App, seen: dict) -> None:
    """Click each field (its dock's tab first when hidden), type FIELD_KEYS: every key was handled once
    Esc has given the keyboard back to the video, and nothing may have moved."""
    before = app.state()
    ids = [f["id"] for f in before["fields"] if f["enabled"]]
    assert len(ids) >= 6, f"the docks' fields were found: {ids}"
    for fid in ids:
        f = next(f for f in app.state()["fields"] if f["id"] == fid)
        if f["rect"] is None:
            tab = next((t for t in app.state()["tabs"] if t["text"] == f["dock_title"]), None)
            assert tab is not None, f"{fid} is hidden and no tab shows its dock {f['dock_title']!r}"
            app.click(tab["rect"])
            f = app.wait(lambda s: next((g for g in s["fields"] if g["id"] == fid and g["rect"]), None),
                         f"field {fid} on screen")
            f = next(g for g in f["fields"] if g["id"] == fid)
        app.click(f["rect"])
        app.wait(lambda s: any(g["id"] == fid and g["focus"] for g in s["fields"]), f"{fid} to have focus")
        app.key(*FIELD_KEYS)
        s = app.wait(lambda s: (s["focus"] or {}).get("class") == "VideoView", f"Esc to leave {fid}")
        seen[fid] = {k: s[k] for k in ("position", "playing", "undo_index", "marks", "armed", "loop")}


@pytest.fixture(scope="module")
def session(screen_1280, demo_template, tmp_path_factory):
    """Run the script once; the saved track of 'tester' and what the window showed on the way."""
    import shutil

    from core.project import Project

    root = tmp_path_factory.mktemp("labels")
    demo = shutil.copytree(demo_template, root / "demo", ignore=shutil.ignore_patterns(".lock"))
    app = App(screen_1280, [str(demo), "--annotator", "tester"], root / "home")
    seen: dict = {}
    try:
        s = app.wait_ready()
        seen["first_start"] = {"frame": screen_1280.frame_rect(app.window_id), "status_bar": s["status_bar"]}
        # 1. a pass from frame 0, the stick held at the bottom left
        jx, jy, jw, jh = s["joystick_rect"]
        app.x.click(jx + jw // 5, jy + jh * 4 // 5)
        app.wait(lambda s: s["joystick"][0] < -0.2 and s["joystick"][1] < -0.2, "the stick at the bottom left")
        _focus_video(app)
        _goto(app, 0)
        _record(app, 0)
        # 2. every field owns its keys
        _show_hidden_docks(app)
        seen["docks_shown"] = {"frame": screen_1280.frame_rect(app.window_id), "status_bar": app.state()["status_bar"]}
        _focus_video(app)
        _goto(app, SEEK)
        app.key("i", "Right", "Right", "o", "Left")
        seen["fields_start"] = app.wait(lambda s: s["marks"] == [SEEK, SEEK + 2] and s["position"] == SEEK + 1,
                                        "marks around the field checks")
        seen["fields"] = {}
        _type_into_fields(app, seen["fields"])
        app.key("Escape")
        app.wait(lambda s: s["marks"] == [None, None], "marks cleared")
        # 3. a cleared loop does not loop
        _goto(app, LOOP[0])
        app.key("i")
        _goto(app, LOOP[1])
        app.key("o", "ctrl+l")
        seen["loop_on"] = app.wait(lambda s: s["loop"] is not None, "the loop on")
        app.key("Escape")
        seen["loop_cleared"] = app.wait(lambda s: s["marks"] == [None, None], "marks cleared")
        _goto(app, PASS_AFTER_CLEARED_LOOP)
        seen["after_cleared_loop"] = _record(app, PASS_AFTER_CLEARED_LOOP, lambda s: (
            s["position"] >= PASS_AFTER_CLEARED_LOOP + PASS_FRAMES or LOOP[0] <= s["position"] <= LOOP[1]))
        # 4. a loop that is on does not pull a pass from outside into its range
        _goto(app, KEPT_LOOP[0])
        app.key("i")
        _goto(app, KEPT_LOOP[1])
        app.key("o", "ctrl+l")
        seen["kept_loop"] = app.wait(lambda s: s["loop"] == list(KEPT_LOOP), "the loop on")
        _goto(app, PASS_OUTSIDE_LOOP)
        seen["outside_loop"] = _record(app, PASS_OUTSIDE_LOOP, lambda s: (
            s["position"] >= PASS_OUTSIDE_LOOP + PASS_FRAMES or KEPT_LOOP[0] <= s["position"] <= KEPT_LOOP[1]))
        app.key("Escape")
        app.wait(lambda s: s["loop"] is None, "the loop off with the marks")
        # 5. Home with the joystick focused centres it, during an armed pass
        _goto(app, JOYSTICK_PASS)
        jx, jy, jw, jh = app.state()["joystick_rect"]
        app.x.click(jx + jw * 4 // 5, jy + jh // 5)
        app.wait(lambda s: s["joystick"][0] > 0.2 and (s["focus"] or {}).get("joystick"),
                 "the stick at the top right, focused")
        app.key("r")
        app.wait(lambda s: s["armed"], "recording armed")
        app.key("space")
        app.wait(lambda s: s["position"] >= JOYSTICK_PASS + 10, "the pass to run")
        app.key("Home")
        seen["after_home"] = app.wait(lambda s: s["joystick"] == [0.0, 0.0] or s["position"] < JOYSTICK_PASS,
                                      "Home to take effect")
        home_at = seen["after_home"]["position"]
        seen["home_pass"] = app.wait(lambda s: s["position"] >= home_at + 10 or s["position"] < JOYSTICK_PASS,
                                     "the pass to run on after Home")
        app.key("space")
        app.wait(lambda s: not s["playing"], "pause")
        app.key("r")
        app.wait(lambda s: not s["armed"], "disarmed")
        seen["home_at"] = home_at
        seen["errors"] = app.state()["errors"]
        seen["exit"] = app.quit()
    finally:
        app.kill()
    seen["stderr"] = app.stderr()
    with Project.open(demo, readonly=True) as p:
        t = p.track("demo", "tester")
        seen["va"], seen["expr"], seen["au"] = t.va.copy(), t.expr.copy(), t.au.copy()
    return seen


def _runs(labelled: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] of each run of labelled frames."""
    idx = np.flatnonzero(labelled)
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]]
    return list(zip(starts.tolist(), ends.tolist()))


def _va_runs(session) -> list[tuple[int, int]]:
    return _runs(~np.isnan(session["va"]).any(axis=1))


def test_the_app_quit_cleanly(session):
    assert session["exit"] == 0
    assert "Traceback" not in session["stderr"], session["stderr"]
    assert session["errors"] == []


def test_a_pass_writes_the_frame_it_starts_from(session):
    starts = [a for a, _ in _va_runs(session)]
    assert starts == [0, JOYSTICK_PASS, PASS_AFTER_CLEARED_LOOP, PASS_OUTSIDE_LOOP], _va_runs(session)
    assert (session["va"][0] < -0.2).all(), "frame 0 holds the stick's value when Space was pressed"


def test_typing_into_fields_never_labels_or_moves_the_video(session):
    start = session["fields_start"]
    assert len(session["fields"]) >= 6
    for fid, s in session["fields"].items():
        assert s["position"] == SEEK + 1 and not s["playing"], f"a key typed into {fid} moved the video: {s}"
        assert s["undo_index"] == start["undo_index"], f"a key typed into {fid} changed the labels"
        assert s["marks"] == [SEEK, SEEK + 2] and not s["armed"] and s["loop"] is None, f"{fid}: {s}"
    assert (session["expr"] == -1).all(), "no expression was labelled"
    assert (session["au"] == -1).all(), "no action unit was labelled"


def test_clearing_the_marks_ends_the_loop(session):
    assert session["loop_on"]["loop"] == list(LOOP)
    assert session["loop_cleared"]["loop"] is None
    assert session["after_cleared_loop"]["position"] >= PASS_AFTER_CLEARED_LOOP + PASS_FRAMES
    assert not any(a <= LOOP[1] and b >= LOOP[0] for a, b in _va_runs(session)), "nothing written in the old range"


def test_a_loop_never_pulls_a_pass_into_its_range(session):
    assert session["kept_loop"]["loop"] == list(KEPT_LOOP)
    assert session["outside_loop"]["position"] >= PASS_OUTSIDE_LOOP + PASS_FRAMES
    assert not any(a <= KEPT_LOOP[1] and b >= KEPT_LOOP[0] for a, b in _va_runs(session)), _va_runs(session)


def test_home_centres_the_focused_joystick(session):
    assert session["after_home"]["position"] >= JOYSTICK_PASS, "Home jumped to the first frame"
    assert session["home_pass"]["position"] >= session["home_at"] + 10
    va = session["va"]
    run = next((a, b) for a, b in _va_runs(session) if a == JOYSTICK_PASS)
    assert (va[JOYSTICK_PASS, 0] > 0.2), "the pass began with the stick at the top right"
    np.testing.assert_allclose(va[run[1]], [0.0, 0.0], atol=1e-6, err_msg="after Home the stick is centred")
    first = _va_runs(session)[0]
    assert (va[first[0]:first[1] + 1] < -0.2).all(), "the pass from frame 0 was not overwritten"


@pytest.mark.parametrize("when", ["first_start", "docks_shown"])
def test_the_window_fits_1280x800(session, when):
    """At the first start, and still once every engine dock is shown."""
    x, y, w, h = session[when]["frame"]
    assert x >= 0 and y >= 0 and x + w <= 1280 and y + h <= 800, session[when]
    sx, sy, sw, sh = session[when]["status_bar"]
    assert sy + sh <= 800, session[when]
