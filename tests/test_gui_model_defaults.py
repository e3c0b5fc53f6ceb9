"""The model in the loop as a person uses it (issue 16 §2), in the real main window on a project with a
trained run 'r1' and its model track: after "Accept model labels" the Train dialog proposes the track that
holds the accepted frames and fine-tuning from r1, and remembers its choices between openings; the
agreement row's reference always has labels and Shift+N says when nothing is compared; Compare after a
new reference redraws the plot, the curve and the worst segments; pre-annotate says what it wrote, keeps
the chosen file in the list (with its folder), marks cancelled runs and draws an empty bar while queued;
the views' window() is QWidget's."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.compare import agreement_series, track_pairs, worst_segments
from core.project import Project
from core.suggest import default_reference
from core.tracks import TrackSource
from tests.gui_support import make_window
from tests.predicted_demo import MODEL_TRACK, RUN, predicted_copy

pytestmark = pytest.mark.gui


@pytest.fixture
def folder(tmp_path, tmp_path_factory) -> Path:
    return predicted_copy(tmp_path_factory.getbasetemp(), tmp_path / "p")


def _window(qtbot, tmp_path, folder, annotator="ann3"):
    win = make_window(qtbot, tmp_path, folder, annotator=annotator)
    qtbot.waitUntil(lambda: win.engine is not None, timeout=10000)
    return win, win.engine


def test_train_dialog_proposes_the_accepted_labels_and_remembers_its_choices(qtbot, tmp_path, folder) -> None:
    win, loop = _window(qtbot, tmp_path, folder)
    s = win.session
    dlg = loop.training.open_dialog()
    assert dlg.labels.currentData() != "ann3" and dlg.start_from.currentData() == ""  # before: fused, scratch
    dlg.reject()
    win.annot.set_in(40)  # frames with a face (the model's labels are NaN without one)
    win.annot.set_out(69)
    loop.show_dock("accept")
    loop.accept.model.setCurrentText(MODEL_TRACK)
    with qtbot.waitSignal(loop.accept.accepted, timeout=120000):
        qtbot.mouseClick(loop.accept.button, Qt.LeftButton)
    s.push(s.set_labels("expr", 50, 55, 4))  # a correction after accepting
    assert win.save()
    with Project.open(folder, readonly=True) as disk:  # the accepted and corrected frames are ann3's, on disk
        mine, model = disk.track("demo", "ann3"), disk.track("demo", MODEL_TRACK)
        np.testing.assert_array_equal(mine.va[40:70], model.va[40:70])
        assert (mine.expr[50:55] == 4).all()

    dlg = loop.training.open_dialog()
    assert dlg.labels.currentData() == "ann3", "the track holding the accepted and corrected frames"
    assert Path(str(dlg.start_from.currentData())[4:]).name == RUN, "fine-tune from the run that made them"
    assert dlg.config().label_track == "ann3" and "--finetune" in dlg.argv("x.toml")
    dlg.epochs.setValue(7)
    dlg.lr.setValue(0.0005)
    dlg.tasks["au"].setChecked(False)
    dlg.by_blocks.setChecked(True)
    dlg.block_share.setValue(30)
    job = dlg.start()
    job.cancel()
    qtbot.waitUntil(lambda: job.done, timeout=60000)

    dlg = loop.training.open_dialog()
    assert (dlg.epochs.value(), dlg.lr.value(), dlg.block_share.value()) == (7, 0.0005, 30)
    assert not dlg.tasks["au"].isChecked() and dlg.by_blocks.isChecked()
    assert dlg.labels.currentData() == "ann3" and Path(str(dlg.start_from.currentData())[4:]).name == RUN
    dlg.reject()
    win.settings.sync()
    stored = [k for k in win.settings.q.allKeys() if k.startswith("train/") and k.endswith("/form")]
    assert len(stored) == 1 and json.loads(win.settings.q.value(stored[0]))["epochs"] == 7  # per project
    other = tmp_path / "other"
    shutil.copytree(folder, other, ignore=shutil.ignore_patterns(".lock", "lock.json"))
    win.close()
    win2, loop2 = _window(qtbot, tmp_path / "w2", other)
    win2.settings = win.settings
    dlg = loop2.training.open_dialog()
    assert dlg.epochs.value() != 7, "another project starts from the defaults"
    dlg.reject()
    win2.close()


def test_the_reference_always_has_labels(tmp_path, folder) -> None:
    with Project.open(folder) as p:
        assert default_reference(p, "demo", "truth") == "truth"  # the fused track, while it has labels
        p.new_track("demo", "me", TrackSource.human("me"))
        p.delete_track("demo", "truth")
        ref = default_reference(p, "demo", "me")
        counts = {a: int(sum(p.track("demo", a).labelled(t).sum() for t in ("va", "expr", "au")))
                  for a in ("ann1", "ann2", "ann3")}
        assert ref == max(counts, key=counts.get) and ref != "me"
        for a in ("ann1", "ann2", "ann3"):
            p.delete_track("demo", a)
        assert default_reference(p, "demo", "me") is None


def test_shift_n_says_nothing_is_compared(qtbot, tmp_path, folder) -> None:
    with Project.open(folder) as p:  # people's labels only in 'me' (empty) and ann1 (no expressions)
        for name in ("truth", "ann2", "ann3"):
            p.delete_track("demo", name)
        t = p.track("demo", "ann1")
        t.expr[:] = -1
        p.put_track(t)
        p.save()
    win, loop = _window(qtbot, tmp_path, folder, annotator="me")
    with qtbot.waitSignal(loop.overlays.drawn, timeout=20000):
        loop.overlays.schedule()
    assert loop.overlays.pair is not None and loop.overlays.pair.reference == "ann1"  # never the empty 'me'
    win.controls.jump_task = "expr"
    with qtbot.waitSignal(loop.overlays.drawn, timeout=20000):
        loop.overlays.schedule()
    win.registry["next_disagreement"].trigger()
    assert win.statusBar().currentMessage().startswith("Nothing to compare for expr")
    loop.overlays.choose_model("")
    win.registry["next_disagreement"].trigger()
    assert win.statusBar().currentMessage().startswith("Nothing to compare: fewer than two annotators")
    win.close()


def test_compare_after_a_new_reference_redraws_everything(qtbot, tmp_path, folder) -> None:
    win, loop = _window(qtbot, tmp_path, folder)
    cv, p = loop.compare, win.session.project
    loop.show_dock("compare")
    cv.reference.setCurrentText("truth")
    with qtbot.waitSignal(cv.computed, timeout=60000):
        cv.compute()
    first = cv.agreement.plotItem.titleLabel.text
    assert "vs truth" in first
    cv.reference.setCurrentText("@ann1")
    assert cv.reference.currentText() == "@ann1"
    with qtbot.waitSignal(cv.computed, timeout=60000):
        cv.compute()
    rows = cv.rows
    r = rows[cv.table.currentRow()]
    assert r["reference"] == "@ann1"
    title = cv.agreement.plotItem.titleLabel.text
    assert "vs @ann1" in title and title != first
    a, b = track_pairs(p, r["track"], "@ann1", ["demo"])["demo"]
    series = agreement_series(a, b, r["task"], max(2, round(cv.window_s.value() * 25)))
    np.testing.assert_array_equal(cv.series.values, series.values)
    np.testing.assert_array_equal(cv.agreement.line.yData, series.values)
    worst = worst_segments(series, cv.worst_list.count())
    assert [cv.worst_list.item(i).data(Qt.UserRole) for i in range(cv.worst_list.count())] == [w.start for w in worst]
    assert loop.overlays.override[1] == "@ann1", "the timeline's strip follows the new pair"
    target = worst[-1].start
    cv.worst_list.itemClicked.emit(cv.worst_list.item(cv.worst_list.count() - 1))
    qtbot.waitUntil(lambda: win.player.position == target, timeout=10000)
    win.close()


def test_preannotate_keeps_the_file_says_what_it_wrote_and_marks_cancelled_runs(qtbot, tmp_path, folder) -> None:
    from app.engine.preannotate import PreannotateDialog, run_text

    run_dir = folder / "models" / "r2"
    shutil.copytree(folder / "models" / RUN, run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["status"] = "cancelled"
    (run_dir / "summary.json").write_text(json.dumps(summary))
    ckpt = tmp_path / "elsewhere" / "r9"
    ckpt.mkdir(parents=True)
    shutil.copy(folder / "models" / RUN / "best.pt", ckpt / "best.pt")
    win, loop = _window(qtbot, tmp_path, folder)
    dlg = PreannotateDialog(win.session, loop.pre, parent=win)
    qtbot.addWidget(dlg)
    dlg.show()
    texts = [dlg.run_combo.itemText(i) for i in range(dlg.run_combo.count())]
    assert any(t.startswith("r2") and t.endswith("[cancelled]") for t in texts), texts
    assert any(t.startswith(RUN) and "[" not in t for t in texts), texts
    assert run_text("r3", "finished", 0.5) == "r3  (score 0.500)"
    train = loop.training.open_dialog()  # the Train dialog's runs to fine-tune are named the same way
    starts = [train.start_from.itemText(i) for i in range(train.start_from.count())]
    assert "Fine-tune run r2  [cancelled]" in starts and f"Fine-tune run {RUN}" in starts, starts
    train.reject()
    dlg.choose_file(str(ckpt / "best.pt"))
    assert dlg.run_combo.currentText() == "r9/best.pt"
    assert dlg.run_combo.itemData(dlg.run_combo.currentIndex(), Qt.ToolTipRole) == str(ckpt / "best.pt")
    dlg.track_edit.setText("fromfile")
    dlg.run()
    assert dlg.bar.isVisible() and dlg.bar.maximum() == 1 and dlg.bar.value() == 0, "empty while queued"
    with qtbot.waitSignal(loop.pre.imported, timeout=180000):
        pass
    qtbot.waitUntil(lambda: all(j.done for j in dlg.jobs), timeout=30000)
    assert dlg.status.text() == "Done: model track fromfile added to 1 video(s): demo."
    assert "Pre-annotation done: model track fromfile" in win.statusBar().currentMessage()
    assert dlg.run_combo.currentText() == "r9/best.pt", "the chosen checkpoint stays in the box"
    with Project.open(folder, readonly=True) as disk:
        assert "fromfile" in disk.track_names("demo")
    win.close()


def test_views_window_is_the_widgets_window(qtbot, tmp_path, folder) -> None:
    win, loop = _window(qtbot, tmp_path, folder)
    assert loop.compare.window() is win
    assert win.views.agreement.window() is win
    win.close()
