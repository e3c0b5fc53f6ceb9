"""The model side of the cooperative loop in its widgets, on a real project: the pre-annotate dialog runs
`affecttrace faces` then `predict --events` through the job runner and imports the model track; accepting
a range is one undo step; the compare view shows `evaluate`'s numbers, jumps to its worst segments and
exports CSV/PNG; the suggestions list jumps and "next suggested" walks forward."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from core.cli.evaluate_cmd import evaluate_sources
from core.compare import PROJECT_ROW, comparison_rows, worst_segments
from core.project import Project
from core.suggest import video_suggestions
from tests.predicted_demo import MODEL_TRACK, NO_FACE, RUN, predicted_copy

pytestmark = pytest.mark.gui


@pytest.fixture
def session(qtbot, tmp_path, tmp_path_factory):
    from app.session import Session

    folder = predicted_copy(tmp_path_factory.getbasetemp(), tmp_path / "p")
    (folder / "cache" / "faces" / "demo.h5").unlink()  # the dialog must find faces first
    s = Session()
    project = Project.open(folder)
    s.set_project(project)
    s.set_annotator("ann3")
    s.set_video("demo")
    yield s
    s.set_project(None)
    project.close()


def _arrays(track) -> dict[str, np.ndarray]:
    return {a: getattr(track, a).copy() for a in ("va", "expr", "au")}


def test_preannotate_dialog_finds_faces_predicts_and_imports(qtbot, session) -> None:
    from app.engine.preannotate import PreannotateDialog, Preannotator
    from app.jobs import JobRunner

    runner = JobRunner()
    pre = Preannotator(session, runner)
    dlg = PreannotateDialog(session, pre, selected=["demo"])
    qtbot.addWidget(dlg)
    assert dlg.run_combo.currentData() == RUN and dlg.scope() == "current"
    assert not dlg.scope_buttons.button(2).isEnabled()  # every video has human labels
    assert dlg.backend.isEnabled() and dlg.backend.currentText() == "reference"
    assert "1 video(s) have no face cache" in dlg.faces_note.text()
    dlg.track_edit.setText("pre")
    with qtbot.waitSignal(pre.imported, timeout=180000) as got:
        qtbot.mouseClick(dlg.run_button, Qt.LeftButton)
        assert [j.command for j in dlg.jobs] == ["faces", "predict"]
        argv = dlg.jobs[1].argv
        assert argv[argv.index("--video") + 1] == "demo" and "--tracks-out" in argv
    assert got.args[0] == [("demo", "pre")]
    qtbot.waitUntil(lambda: all(j.done for j in dlg.jobs), timeout=30000)  # the result comes before the exit
    assert all(j.state == "finished" for j in dlg.jobs), [j.error for j in dlg.jobs]
    assert dlg.status.text() == "Done: model track pre added to 1 video(s): demo."
    assert not Path(argv[argv.index("--tracks-out") + 1]).exists()
    p = session.project
    new, old = p.track("demo", "pre"), p.track("demo", MODEL_TRACK)
    assert new.va_std is not None and np.isfinite(new.va_std).all()  # the drawn face is found on every frame
    keep = np.ones(new.n_frames, bool)
    keep[slice(*NO_FACE)] = False  # the old track was made without faces there
    np.testing.assert_allclose(new.va[keep], old.va[keep], atol=1e-5)
    np.testing.assert_allclose(new.va_std[keep], old.va_std[keep], atol=1e-5)


def test_accept_range_is_one_undo_step(qtbot, session) -> None:
    from app.engine.accept import AcceptPanel
    from app.jobs import JobRunner

    panel = AcceptPanel(session, JobRunner(), marked_range=lambda: (10, 60))
    qtbot.addWidget(panel)
    assert panel.model.currentText() == MODEL_TRACK
    track, model = session.track(), session.project.track("demo", MODEL_TRACK)
    before = _arrays(track)
    with qtbot.waitSignal(panel.accepted, timeout=60000):  # `affecttrace accept --plan-out` in a child process
        qtbot.mouseClick(panel.button, Qt.LeftButton)
        assert panel.job.argv[0] == "accept" and not panel.button.isEnabled()
    assert session.stack.count() == 1 and "frames 10-59" in panel.status.text()
    assert panel.button.isEnabled() and not list(Path(session.project.folder, "cache", "accept").iterdir())
    face = np.r_[10:NO_FACE[0], NO_FACE[1]:60]
    np.testing.assert_array_equal(track.expr[face], model.expr[face])
    np.testing.assert_array_equal(track.va[face], model.va[face])
    session.stack.undo()
    for a, arr in before.items():
        np.testing.assert_array_equal(getattr(track, a), arr, err_msg=a)
    session.stack.redo()
    np.testing.assert_array_equal(track.au[face], model.au[face])

    panel.confident.setChecked(True)
    panel.threshold.setValue(1.0)  # nothing is that sure: no edit, and it says so
    job = panel.accept()
    qtbot.waitUntil(lambda: job.done and panel.button.isEnabled(), timeout=60000)
    assert session.stack.count() == 1 and "Nothing to accept" in panel.status.text()


def test_compare_view_shows_evaluate_numbers_jumps_and_exports(qtbot, session, tmp_path) -> None:
    from app.engine.compare_view import CompareView

    view = CompareView(session)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    view.reference.setCurrentText("truth")
    with qtbot.waitSignal(view.computed, timeout=60000):  # computed off the GUI thread
        assert view.compute() is not None and not view.compute_button.isEnabled()
    rows = view.rows
    assert rows == comparison_rows(session.project, ["@ann1", "@ann2", "@ann3", MODEL_TRACK], "truth")
    folder = session.project.folder
    for task in ("va", "expr", "au"):
        ev = evaluate_sources(f"{folder}:{MODEL_TRACK}", f"{folder}:truth", task)
        want = (MODEL_TRACK, task, PROJECT_ROW)
        i = next(i for i, r in enumerate(rows) if (r["track"], r["task"], r["video"]) == want)
        assert view.table.item(i, 4).text() == f"{ev['overall']['score']:.3f}"

    i = next(i for i, r in enumerate(rows) if (r["track"], r["task"], r["video"]) == (MODEL_TRACK, "expr", "demo"))
    view.table.selectRow(i)
    assert view.series is not None and view.series.task == "expr" and len(view.agreement.line.xData) == 100
    assert view.worst == worst_segments(view.series, 10) and view.worst_list.count() == len(view.worst) > 0
    with qtbot.waitSignal(view.seekRequested) as got:
        item = view.worst_list.item(0)
        rect = view.worst_list.visualItemRect(item)
        qtbot.mouseClick(view.worst_list.viewport(), Qt.LeftButton, pos=rect.center())
    assert got.args == ["demo", view.worst[0].start]

    view.export_csv(tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(rows)
    view.export_png(tmp_path / "t.png")
    img = QImage(str(tmp_path / "t.png"))
    assert not img.isNull() and img.width() > 100 and img.height() > 100


def test_suggestions_list_jumps_and_next_walks_forward(qtbot, session) -> None:
    from app.engine.suggestions_view import SuggestionsView

    at = {"frame": 0}
    view = SuggestionsView(session, current_frame=lambda: at["frame"])
    qtbot.addWidget(view)
    assert view.model.currentText() == MODEL_TRACK
    view.seconds.setValue(1)
    with qtbot.waitSignal(view.resultShown, timeout=30000):  # computed off the GUI thread
        assert view.suggest() is not None and view.status.text() == "Suggesting…"
    segs = view.segments
    expect = video_suggestions(session.project, "demo", MODEL_TRACK, annotator="ann3", count=20, segment_s=1.0)
    assert segs == expect.segments and view.list.count() == 4
    np.testing.assert_array_equal(view.score, expect.score)
    with qtbot.waitSignal(view.seekRequested) as got:
        view.list.itemClicked.emit(view.list.item(2))
    assert got.args == ["demo", segs[2].start]
    starts = sorted(s.start for s in segs)
    with qtbot.waitSignal(view.seekRequested) as got:
        view.next_action.trigger()
    assert got.args == ["demo", starts[1]]  # the first segment starting after frame 0
    at["frame"] = starts[-1]
    assert view.next_suggested().start == starts[0]  # wraps
