"""Training from the app, with real child processes and real training steps on a 6 s demo: the dialog starts
a job and the dashboard follows it; cancel keeps the app responsive and the last checkpoint loadable; failing
jobs (NaN, no faces, a bad checkpoint, a killed child) say one clear thing and change nothing else; a
finished run's dashboard reopens from its log; quitting while a job runs asks first."""
from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest

from core.nn.config import TrainConfig
from tests.engine_support import annotations_digest, engine_demo, engine_window

SHORT = ["--preset", "mt-tiny", "--label-track", "truth", "--batch-size", "8", "--max-steps", "3"]
LONG = ["--preset", "mt-tiny", "--label-track", "truth", "--batch-size", "4", "--epochs", "200"]


@pytest.fixture()
def demo(tmp_path_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # the speed cache of the dialog
    return engine_demo(tmp_path_factory.getbasetemp(), tmp_path / "p")


@pytest.fixture()
def window(qtbot, demo):
    win, training = engine_window(qtbot, demo)
    yield win, training
    training.runner.cancel_all()
    training.runner.wait(60)
    win.session.project.close()


def _finished(qtbot, job, timeout_ms: int = 120000) -> None:
    qtbot.waitUntil(lambda: job.done, timeout=timeout_ms)


def test_train_from_the_dialog_updates_the_dashboard(qtbot, window, demo) -> None:
    win, training = window
    dlg = training.open_dialog()
    assert dlg.labels.findData("truth") >= 0 and dlg.labels.findData("@each") >= 0
    assert dlg.by_blocks.isChecked()  # one video: validation on time blocks of it
    dlg.labels.setCurrentIndex(dlg.labels.findData("truth"))
    dlg.epochs.setValue(2)
    dlg.batch.setValue(8)
    dlg.max_steps.setValue(3)
    cfg = dlg.config()  # the form over TrainConfig's defaults: one video validates on time blocks of it
    assert cfg.val_blocks == 0.2 and cfg.train_split == ["demo"] and (cfg.epochs, cfg.batch_size) == (2, 8)
    assert dlg.argv("run.toml") == ["train", str(demo), "--config", "run.toml"]
    job = dlg.start()
    assert job is not None and not dlg.isVisible()
    config_file = Path(job.argv[job.argv.index("--config") + 1])
    assert TrainConfig.load(config_file).max_steps_per_epoch == 3
    dash = training.panel.dashboard
    assert dash.job is job and training.dock.isVisible()
    _finished(qtbot, job)
    assert job.state == "finished", job.error
    assert not config_file.exists()  # removed when the job ended
    run = dash.run
    assert run.run_id and run.status == "finished" and run.epochs == [1, 2]
    total = run.last_step["total_steps"]
    assert run.steps == sorted(set(run.steps)) and run.steps[-1] == total == 6  # at most 4 step events a second
    xs, ys = dash.loss.lines["total"].getData()
    assert len(xs) == len(run.steps) and np.isfinite(ys).all()
    xs, _ = dash.metrics.lines["val_ccc_valence"].getData()
    assert list(xs) == [1, 2]
    assert dash.metrics.best.isVisible() and dash.metrics.best.value() == run.best_epoch
    assert dash.confusion.rowCount() == 8 and dash.au.bars.opts["x"] == list(range(12))
    assert "images/s" in dash.status.text() and "MB" in dash.status.text() and "cpu" in dash.status.text()
    qtbot.waitUntil(lambda: training.panel.runs.table.rowCount() == 1)
    assert training.panel.runs.table.item(0, 0).text() == run.run_id
    # a second run fine-tunes the first
    dlg = training.open_dialog()
    dlg.start_from.setCurrentIndex(dlg.start_from.findData(f"run:{run.run_dir}"))
    dlg.labels.setCurrentIndex(dlg.labels.findData("ann1"))
    dlg.epochs.setValue(1)
    dlg.max_steps.setValue(1)
    job = dlg.start()
    assert job.argv[job.argv.index("--finetune") + 1] == run.run_dir
    _finished(qtbot, job)
    assert job.state == "finished", job.error
    config = job.run_info["config"]
    assert config["finetune"] == f"{run.run_dir}/best.pt" and config["label_track"] == "ann1"


def test_reopen_a_finished_run_from_its_log(qtbot, window, demo) -> None:
    from app.engine.dashboard import Dashboard
    from core.runs import RunCurves

    win, training = window
    job = training.runner.submit(["train", str(demo), *SHORT, "--epochs", "2", "--val-blocks", "0.2"])
    _finished(qtbot, job)
    live = RunCurves.from_events(job.events)
    again = Dashboard()  # as after a restart: nothing but the run folder
    qtbot.addWidget(again)
    again.show()
    reopened = again.open_log(live.run_dir)
    assert reopened.status == "finished" and reopened.run_id == live.run_id
    assert reopened.steps == live.steps and reopened.losses == live.losses
    assert reopened.epochs == live.epochs and reopened.best_epoch == live.best_epoch
    np.testing.assert_equal(reopened.metrics, live.metrics)
    assert reopened.best_details == live.best_details and reopened.config["val_blocks"] == 0.2
    assert list(again.metrics.lines["val_au_f1"].getData()[0]) == [1, 2]
    # a second run overlaid on the first
    other = training.runner.submit(["train", str(demo), *SHORT, "--epochs", "1", "--seed", "3"])
    _finished(qtbot, other)
    training.dock.show()
    training.panel.runs.refresh()
    assert training.panel.runs.table.rowCount() == 2
    training.panel.overlay_runs(live.run_dir, other.run_info["run_dir"])
    dash = training.panel.dashboard
    assert dash.other is not None and len(dash.loss.ghosts["total"].getData()[0]) == len(dash.other.steps)


def test_cancel_keeps_the_app_responsive_and_the_last_checkpoint(qtbot, window, demo) -> None:
    from PySide6.QtCore import QTimer

    from core.nn.checkpoint import model_from_checkpoint

    win, training = window
    job = training.runner.submit(["train", str(demo), *LONG])
    qtbot.waitUntil(lambda: len([e for e in job.events if e["event"] == "step"]) >= 2, timeout=120000)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    job.cancel()
    assert job.state == "cancelling"  # cancel returns at once; the child stops after its step
    _finished(qtbot, job)
    timer.stop()
    assert job.state == "cancelled" and not job.error and ticks  # the event loop ran while it stopped
    run_dir = job.run_info["run_dir"]
    model, ckpt = model_from_checkpoint(os.path.join(run_dir, "last.pt"))
    assert ckpt["step"] >= 2
    from core.jobevents import read_log

    assert read_log(os.path.join(run_dir, "events.jsonl"))[-1]["status"] == "cancelled"
    # the runner goes on with the next job
    nxt = training.runner.submit(["models", "--json"])
    _finished(qtbot, nxt)
    assert nxt.state == "finished"


def _fails_cleanly(qtbot, training, demo, argv: list[str], expect: str, kill_after_step: bool = False) -> None:
    before = annotations_digest(demo)
    job = training.runner.submit(argv)
    failures: list[str] = []
    job.failed.connect(failures.append)
    if kill_after_step:
        qtbot.waitUntil(lambda: any(e["event"] == "step" for e in job.events), timeout=120000)
        os.kill(training.runner._child.pid, signal.SIGKILL)
    _finished(qtbot, job)
    assert job.state in ("failed", "diverged") and len(failures) == 1, (job.state, failures)
    assert expect in failures[0] and "\n" not in failures[0] and "Traceback" not in failures[0], failures[0]
    assert annotations_digest(demo) == before  # no other effect
    qtbot.waitUntil(lambda: not training.runner.busy, timeout=5000)


def test_failing_jobs_give_one_clear_message(qtbot, window, demo, tmp_path) -> None:
    win, training = window
    dash = training.panel.dashboard
    _fails_cleanly(qtbot, training, demo, ["train", str(demo), *SHORT, "--epochs", "1", "--lr", "1e9"],
                   "loss became nan")
    assert training.runner.jobs[-1].state == "diverged"
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    _fails_cleanly(qtbot, training, demo, ["train", str(demo), *SHORT, "--epochs", "1", "--pretrained", str(bad)],
                   str(bad))
    _fails_cleanly(qtbot, training, demo, ["predict", str(demo), "--checkpoint", str(bad), "--tracks-out",
                                           str(tmp_path / "tracks.h5")], str(bad))
    _fails_cleanly(qtbot, training, demo, ["train", str(demo), *LONG], "killed by SIGKILL", kill_after_step=True)
    dash.follow(training.runner.jobs[-1])  # the dashboard shows a failed job's message, nothing breaks
    assert "SIGKILL" in dash.note.text()
    shutil.rmtree(demo / "cache" / "faces")
    _fails_cleanly(qtbot, training, demo, ["train", str(demo), *SHORT, "--epochs", "1"], "no face cache")


def test_faces_are_made_first_in_the_same_job(qtbot, window, demo) -> None:
    win, training = window
    shutil.rmtree(demo / "cache" / "faces")
    dlg = training.open_dialog()
    assert dlg.missing_faces == ["demo"] and not dlg.backend_row.isHidden()
    assert dlg.backend.currentText() == "reference"  # the demo's drawn landmarks
    dlg.labels.setCurrentIndex(dlg.labels.findData("truth"))
    dlg.epochs.setValue(1)
    dlg.batch.setValue(8)
    dlg.max_steps.setValue(2)
    job = dlg.start()
    assert job.argv[-2:] == ["--faces-backend", "reference"]
    _finished(qtbot, job)
    assert job.state == "finished", job.error
    labels = {e.get("label") for e in job.events if e["event"] == "progress"}
    assert "faces demo" in labels and (demo / "cache" / "faces" / "demo.h5").is_file()


def test_quit_while_a_job_runs_asks_first(qtbot, window, demo) -> None:
    win, training = window
    runner = training.runner
    assert runner.confirm_close(win, ask=lambda: pytest.fail("nothing runs: no question"))
    job = runner.submit(["train", str(demo), *LONG])
    queued = runner.submit(["models"])
    qtbot.waitUntil(lambda: job.state == "running", timeout=30000)
    assert not runner.confirm_close(win, ask=lambda: "cancel") and job.state == "running"
    assert runner.confirm_close(win, ask=lambda: "stop")
    assert job.state == "cancelled" and queued.state == "cancelled" and not runner.busy


def test_installs_on_the_main_window(qtbot, tmp_path, demo) -> None:
    from app.engine.training import Training
    from tests.gui_support import make_window

    win = make_window(qtbot, tmp_path, demo)  # the window installs the engine with its timeline
    menu = win.registry.menu("Engine")
    training = win.findChild(Training)
    assert menu.title().replace("&", "") == "Engine" and training.train_action in menu.actions()
    assert win.views.docks["training"] is training.dock and training.train_action.isEnabled()
    dlg = training.open_dialog()
    assert dlg.labels.findData("truth") >= 0
    dlg.reject()
