"""The cooperative loop in the real main window, with real child processes on a 6 s demo: train a few steps
from the Engine menu's dialog while the dashboard follows, pre-annotate, the model track with its
confidence on the timeline (bands and strips hold the core functions' numbers), the compare table equals
`affecttrace compare`, accept the in/out range and undo it exactly, next suggested / next disagreement
land where core says, retrain on the accepted labels; quitting while a job runs stops it or asks first."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from tests.engine_support import engine_demo
from tests.gui_support import make_window, wait_frame

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[1]
TRAIN_LONG = ["--preset", "mt-tiny", "--label-track", "truth", "--batch-size", "4", "--epochs", "200"]


@pytest.fixture()
def demo(tmp_path_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # the train dialog's speed cache
    return engine_demo(tmp_path_factory.getbasetemp(), tmp_path / "p")


def _key(win, seq: str) -> None:
    combo = QKeySequence(seq)[0]
    QTest.keyClick(win.views.video, combo.key(), combo.keyboardModifiers())


def _seek(qtbot, win, frame: int) -> None:
    win.player.seek(frame)
    wait_frame(qtbot, win, frame)


def _train(qtbot, loop, labels: str, steps: int):
    dlg = loop.training.open_dialog()
    dlg.labels.setCurrentIndex(dlg.labels.findData(labels))
    dlg.epochs.setValue(1)
    dlg.batch.setValue(8)
    dlg.max_steps.setValue(steps)
    job = dlg.start()
    qtbot.waitUntil(lambda: job.done, timeout=180000)
    assert job.state == "finished", job.error
    return job


def _arrays(track) -> dict[str, np.ndarray]:
    return {a: getattr(track, a).copy() for a in ("va", "expr", "au")}


def test_the_whole_loop_in_the_main_window(qtbot, tmp_path, demo) -> None:
    import shutil

    from app.engine.compare_view import fmt_score
    from app.engine.overlays import Pair, relative
    from app.widgets.timeline_lanes import confidence_lanes, ramp
    from core.compare import agreement_series, next_disagreement
    from core.project import Project
    from core.suggest import default_reference, next_suggested, video_suggestions

    shutil.rmtree(demo / "cache" / "faces")  # training finds them first, in the same job
    win = make_window(qtbot, tmp_path, demo, annotator="ann3")
    loop, tl, s = win.engine, win.views.timeline, win.session
    win.player.set_use_audio(False)
    assert win.faces is None and not win.registry["overlay"].isEnabled()
    win.activateWindow()  # keys reach the shortcuts of the active window
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    assert not [k for k in tl.strips() if k.startswith("model:")] and "Engine" in win.registry.menu("Engine").title()

    # train a few steps from the dialog; the dashboard follows and the run is listed
    job = _train(qtbot, loop, "truth", 3)
    dash = loop.training.panel.dashboard
    assert loop.training.dock.isVisible() and dash.job is job and dash.run.steps[-1] == 3
    assert len(dash.loss.lines["total"].getData()[0]) == len(dash.run.steps)
    qtbot.waitUntil(lambda: loop.training.panel.runs.table.rowCount() == 1)
    run_id = job.run_info["run_id"]
    qtbot.waitUntil(lambda: win.faces is not None, timeout=15000)  # the overlay without a restart
    assert win.registry["overlay"].isEnabled()

    # pre-annotate from the Engine menu: the model track and its confidence appear on the timeline
    dlg = loop.open_preannotate()
    assert dlg.run_combo.currentData() == run_id
    dlg.track_edit.setText("pre")
    with qtbot.waitSignal(loop.overlays.drawn, timeout=180000):
        with qtbot.waitSignal(loop.pre.imported, timeout=180000):
            qtbot.mouseClick(dlg.run_button, Qt.LeftButton)
    dlg.reject()  # its Close button: the window is free again
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    win.views.video.setFocus()
    p = s.project
    pre = p.track("demo", "pre")
    assert pre.va_std is not None and pre.expr_prob is not None and pre.au_prob is not None
    assert "pre" in tl.visible and tl.visible["pre"]  # its curves are switched on
    low, high = tl.band_values("model:valence")
    np.testing.assert_allclose(low, pre.va[:, 0] - pre.va_std[:, 0], rtol=1e-6)
    np.testing.assert_allclose(high, pre.va[:, 0] + pre.va_std[:, 0], rtol=1e-6)
    lanes = confidence_lanes(pre, loop.overlays._lane_colours(), tl.au_expanded)
    for name, colours in lanes:
        np.testing.assert_array_equal(tl.strip_colours(f"model:{name}"), colours)
    ref = default_reference(p, "demo", "ann3")
    assert loop.overlays.pair.track == "pre" and loop.overlays.pair.reference == ref
    window = loop.overlays.window()
    series = agreement_series(pre, p.track("demo", ref), "va", window)
    t = win.theme
    np.testing.assert_array_equal(tl.strip_colours("agreement"),
                                  ramp(np.clip(series.values, 0, 1), t.disagree, t.agree, t.unlabelled)[0])
    sug = video_suggestions(p, "demo", "pre", annotator="ann3", count=loop.suggestions.count.value(),
                            segment_s=float(loop.suggestions.seconds.value()))
    np.testing.assert_array_equal(tl.strip_colours("suggested"), ramp(relative(sug.score), t.unlabelled, t.marks,
                                                                      t.unlabelled)[0])
    assert loop.suggestions.segments == sug.segments
    for key in ("compare", "suggestions", "accept"):
        assert loop.show_dock(key).isVisible()
    qtbot.wait(50)
    assert (win.width(), win.height()) == (1280, 800)  # the docks fit; the window never grows

    # the compare table holds `affecttrace compare`'s numbers
    loop.show_dock("compare")
    loop.compare.reference.setCurrentText("truth")
    with qtbot.waitSignal(loop.compare.computed, timeout=60000):  # computed off the GUI thread
        loop.compare.compute()
    rows = loop.compare.rows
    out = subprocess.run([sys.executable, "-m", "core.cli", "compare", str(demo), "--ref", "truth", "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert rows == json.loads(out.stdout)["rows"]
    for i, r in enumerate(rows):
        assert loop.compare.table.item(i, 4).text() == fmt_score(r["score"])
    row = next(i for i, r in enumerate(rows) if (r["track"], r["task"], r["video"]) == ("pre", "va", "demo"))
    qtbot.mouseClick(loop.compare.table.viewport(), Qt.LeftButton,
                     pos=loop.compare.table.visualItemRect(loop.compare.table.item(row, 0)).center())
    assert loop.overlays.current_pair() == Pair("demo", "pre", "truth", "va")  # the row is on the timeline

    # accept the in/out range (marked by keys) from the dock; undo by key restores exactly
    own = s.track()
    before = _arrays(own)
    _seek(qtbot, win, 10)
    _key(win, "I")
    _seek(qtbot, win, 59)
    _key(win, "O")
    loop.show_dock("accept")
    loop.accept.model.setCurrentText("pre")
    with qtbot.waitSignal(loop.accept.accepted, timeout=60000):  # `affecttrace accept` through the job runner
        qtbot.mouseClick(loop.accept.button, Qt.LeftButton)
    assert "frames 10-59" in loop.accept.status.text()
    np.testing.assert_array_equal(own.expr[10:60], pre.expr[10:60])
    np.testing.assert_array_equal(own.va[10:60], pre.va[10:60])
    _key(win, "Ctrl+Z")
    for a, arr in before.items():
        np.testing.assert_array_equal(getattr(own, a), arr, err_msg=a)
    _key(win, "Ctrl+Shift+Z")
    np.testing.assert_array_equal(own.au[10:60], pre.au[10:60])

    # next suggested and next disagreement go where core says
    _seek(qtbot, win, 0)
    with qtbot.waitSignal(loop.overlays.drawn, timeout=20000):
        loop.overlays.schedule()
    sug = video_suggestions(p, "demo", "pre", annotator="ann3", count=loop.suggestions.count.value(),
                            segment_s=float(loop.suggestions.seconds.value()))
    _key(win, "Ctrl+N")
    target = next_suggested(sug.segments, 0).start
    wait_frame(qtbot, win, target)
    series = agreement_series(pre, p.track("demo", "truth"), "va", window)
    expect = next_disagreement(series, target, wrap=True)
    assert expect is not None
    _key(win, "Shift+N")
    wait_frame(qtbot, win, expect)
    with qtbot.waitSignal(loop.overlays.drawn, timeout=20000):
        loop.overlays.choose_model("")  # no model on the timeline: the annotators' disagreements
    assert loop.overlays.current_pair() is None and "agreement" not in tl.strips()
    from app.navigation import next_disagreement as human_next

    at = win.player.position
    _key(win, "Shift+N")
    wait_frame(qtbot, win, human_next(s.human_tracks(), "va", at))

    # correct a label after accepting, then retrain on this annotator's labels: the job reads them
    win.annot.set_in(20)
    win.annot.set_out(29)
    s.push(s.set_labels("expr", 20, 30, 4))
    retrain = _train(qtbot, loop, "ann3", 1)
    assert retrain.run_info["config"]["label_track"] == "ann3"
    with Project.open(demo, readonly=True) as disk:  # what the child saw
        np.testing.assert_array_equal(disk.track("demo", "ann3").expr, own.expr)
    assert (own.expr[20:30] == 4).all()
    qtbot.waitUntil(lambda: loop.training.panel.runs.table.rowCount() == 2)
    win.close()


def test_quit_while_training_asks_then_stops_keeping_the_checkpoint(qtbot, tmp_path, demo, monkeypatch) -> None:
    import app.jobs.runner as runner_module
    from core.nn.checkpoint import model_from_checkpoint

    win = make_window(qtbot, tmp_path, demo, annotator="ann3")
    win.stop_jobs_on_close = False  # as in the interactive app: ask first
    runner = win.engine.runner
    job = runner.submit(["train", str(demo), *TRAIN_LONG])
    qtbot.waitUntil(lambda: len([e for e in job.events if e["event"] == "step"]) >= 1, timeout=120000)
    monkeypatch.setattr(runner_module, "_ask_stop_or_wait", lambda parent, r: "cancel")
    assert not win.close() and win.isVisible() and job.state == "running"
    monkeypatch.setattr(runner_module, "_ask_stop_or_wait", lambda parent, r: "stop")
    assert win.close() and job.state == "cancelled"
    model, ckpt = model_from_checkpoint(os.path.join(job.run_info["run_dir"], "last.pt"))
    assert ckpt["step"] >= 1


def test_sigterm_while_training_stops_the_job_and_quits(tmp_path, demo) -> None:
    code = textwrap.dedent(f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from app import launch
        from app.jobs import runner_for
        from app.main_window import MainWindow

        def poke():
            w = next((x for x in QApplication.topLevelWidgets() if isinstance(x, MainWindow)), None)
            if w is None or w.session.project is None or w.engine is None:
                return QTimer.singleShot(50, poke)
            job = runner_for(w).submit(["train", {str(demo)!r}, *{TRAIN_LONG!r}])
            job.step.connect(lambda ev: print("step", job.run_info["run_dir"], flush=True))

        QTimer.singleShot(0, poke)
        sys.exit(launch.main([{str(demo)!r}, "--annotator", "sig"]))
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline().split()
        assert line[:1] == ["step"], child.stderr.read()
        child.send_signal(signal.SIGTERM)
        rc = child.wait(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    err = child.stderr.read()
    assert rc == 0 and "Traceback" not in err, err
    from core.jobevents import read_log
    from core.nn.checkpoint import model_from_checkpoint

    run_dir = line[1]
    assert read_log(os.path.join(run_dir, "events.jsonl"))[-1]["status"] == "cancelled"
    model_from_checkpoint(os.path.join(run_dir, "last.pt"))


def test_a_confidence_band_is_painted(qtbot) -> None:
    """The band is filled on screen (it once had no path: a PlotDataItem without a pen draws none)."""
    from PySide6.QtGui import QColor

    from app.widgets.timeline import Timeline

    tl = Timeline()
    qtbot.addWidget(tl)
    tl.resize(900, 600)
    tl.show()
    tl.set_video(400, 25.0)

    def red_pixels() -> int:
        img = tl.grab().toImage()
        colours = (img.pixelColor(x, y) for y in range(0, img.height(), 2) for x in range(0, img.width(), 4))
        return sum(c.red() > 200 and c.green() < 100 and c.blue() < 100 for c in colours)

    before = red_pixels()  # the playhead
    low, high = np.full(400, -0.5), np.full(400, 0.8)
    low[100:150] = high[100:150] = np.nan  # no prediction there: a gap
    tl.add_band("conf", "valence", low, high, QColor(255, 0, 0).name(), alpha=255)
    qtbot.wait(50)
    assert red_pixels() > before + 1000
    np.testing.assert_array_equal(tl.band_values("conf")[0], low)


def test_engine_docks_come_back_where_they_were(qtbot, tmp_path) -> None:
    """The engine's docks are added after the saved layout is restored (with the timeline, after the window
    shows): they still come back as they were, tabbed beside the timeline and the project list."""
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from app.settings import Settings

    def window() -> MainWindow:
        win = MainWindow(Settings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)), interactive=False,
                         lazy=True)
        qtbot.addWidget(win)
        win.resize(1600, 1000)
        win.show()
        win.attach_timeline()  # as the app does right after the window shows
        return win

    def places(win: MainWindow) -> dict[str, tuple[bool, set[str]]]:
        return {k: (d.isVisible(), {x.objectName() for x in win.tabifiedDockWidgets(d)})
                for k, d in win.engine.docks.items()}

    win = window()
    assert not any(visible for visible, _tabs in places(win).values())  # hidden until asked for
    for key in ("training", "compare", "suggestions"):
        win.engine.show_dock(key)
    qtbot.wait(50)
    before = places(win)
    assert before["training"] == (True, {"dock_timeline", "compare"}) and before["accept"][0] is False
    assert {"dock_project", "dock_agreement"} <= before["suggestions"][1]
    win.close()
    again = window()
    qtbot.wait(50)
    assert places(again) == before
    again.close()


def test_model_lanes_are_shaded_by_probability() -> None:
    from app.widgets.timeline_lanes import LaneColours, confidence_lanes, rgba
    from core.tracks import Track, TrackSource

    t = Track.empty("v", "m", TrackSource.model("r", "h"), 4, ("AU1", "AU2"))
    t.expr[:] = [0, 1, 1, -1]
    t.expr_prob = np.full((4, 8), 1 / 8, np.float32)
    t.expr_prob[0] = np.eye(8)[0]  # sure of class 0; frames 1-2 at chance; frame 3: no prediction
    t.expr_prob[3] = np.nan
    t.au_prob = np.array([[1.0, 0.0], [0.5, 0.5], [0.75, 0.25], [np.nan, np.nan]], np.float32)
    c = LaneColours("#ffffff", "#00ff00", "#0000ff", "#ff0000", tuple(["#000000"] * 8))
    expr, aus = confidence_lanes(t, c, au_expanded=False)
    white, black = rgba("#ffffff")[:3].astype(int), rgba("#000000")[:3].astype(int)
    assert expr[0] == "expression" and aus[0] == "AUs"
    np.testing.assert_array_equal(expr[1][0, :3], black)  # sure: the class colour
    np.testing.assert_allclose(expr[1][1, :3], white + 0.25 * (black - white), atol=1)  # chance: a quarter
    np.testing.assert_array_equal(expr[1][3, :3], white)  # no prediction: unlabelled
    np.testing.assert_array_equal(aus[1][0, :3], rgba("#0000ff")[:3])  # AU1 present for sure
    np.testing.assert_array_equal(aus[1][3, :3], white)
    per_au = confidence_lanes(t, c, au_expanded=True)
    assert [n for n, _c in per_au] == ["expression", "AU1", "AU2"]
    np.testing.assert_array_equal(per_au[2][1][0, :3], rgba("#ff0000")[:3])  # AU2 absent for sure
