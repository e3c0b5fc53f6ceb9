"""Issue 15 in the app: a team project opens as the annotator's lane; another annotator's saves appear in the
window by polling, the window's edits reach the others by its own quick save; the banner while the share
is away (edits spooled, replayed when it is back); read-only with the holder named and Take over."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from core.edits import set_range
from core.project import Project, storage
from core.project.campaign import assign
from core.project.lanefiles import TAKEOVERS_NAME, lane_root
from core.project.manifest import Manifest
from core.tracks import TrackSource
from tests.gui_support import demo_copy, make_window
from tests.test_disk_and_locks import tmpfs  # noqa: F401 (the fixture: a real small tmpfs where root allows)

pytestmark = pytest.mark.gui


def team_copy(tmp_path: Path, tmp_path_factory, annotators: tuple[str, ...] = ("lena", "omar")) -> Path:
    """A demo copy made a team project: the lead assigned its video to ``annotators``."""
    folder = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "team")
    with Project.open_writable(folder) as p:
        assign(p, list(annotators), ["demo"], ["va", "expr", "au"])
    return folder


def label(p: Project, start: int, stop: int, va: tuple[float, float]) -> None:
    """An edit of ``p``'s annotator on its own lane (the other workstation), saved."""
    if not p.has_track("demo", p.lane):
        p.new_track("demo", p.lane, TrackSource.human(p.lane))
    p.history.push(set_range("demo", p.lane, "va", start, stop, va, author=p.lane))
    p.save()


def test_others_saves_appear_by_polling_and_own_edits_are_published(qtbot, tmp_path, tmp_path_factory):
    folder = team_copy(tmp_path, tmp_path_factory)
    win = make_window(qtbot, tmp_path, folder, annotator="lena")
    p = win.session.project
    assert p.lane == "lena" and not p.readonly and win.team.poll_timer.isActive()
    omar = Project.open(folder, annotator="omar")
    try:
        label(omar, 10, 60, (0.5, -0.5))
        qtbot.waitUntil(lambda: "omar" in win.views.timeline._tracks, timeout=10000)
        shown = win.views.timeline._tracks["omar"]
        np.testing.assert_allclose(shown.va[10:60], [[0.5, -0.5]] * 50)
        qtbot.waitUntil(lambda: any(win.views.browser.annotators.item(i).text().startswith("omar · ")
                                    and "s ago" in win.views.browser.annotators.item(i).text()
                                    for i in range(win.views.browser.annotators.count())), timeout=5000)
        # a later save of omar's redraws his curve in place, and only his: the other curves stay as they were
        tl = win.views.timeline
        others = {n: c for n, c in tl._curves.items() if n != "omar"}
        label(omar, 100, 120, (-0.25, 0.75))
        qtbot.waitUntil(lambda: np.allclose(tl._tracks["omar"].va[100:120], [-0.25, 0.75]), timeout=10000)
        qtbot.waitUntil(lambda: np.allclose(tl._curves["omar"][0].yData[100:120], -0.25), timeout=5000)
        assert others and all(tl._curves[n] is c for n, c in others.items())
        # the lead adds a video meanwhile: it appears in the Project list
        with Project.open_writable(folder) as lead:
            lead.add_video(folder / "v9.mp4", name="v9", frame_count=100, fps=25)
        tree = win.views.browser.tree
        qtbot.waitUntil(lambda: "v9" in [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())],
                        timeout=10000)
        # lena's edit in the window is saved within a second or so, and omar's session sees it by polling
        s = win.session
        assert s.push(s.set_labels("va", 200, 240, (0.125, 0.375)))
        qtbot.waitUntil(lambda: not p.unsaved, timeout=5000)

        def omar_sees() -> bool:
            omar.poll_changes()
            return omar.has_track("demo", "lena") and np.allclose(omar.track("demo", "lena").va[200:240],
                                                                  [0.125, 0.375])
        qtbot.waitUntil(omar_sees, timeout=10000)
    finally:
        omar.close()
    win.close()
    with Project.open(folder, readonly=True) as r:  # both lanes, as saved
        np.testing.assert_allclose(r.track("demo", "lena").va[200:240], [[0.125, 0.375]] * 40)
        np.testing.assert_allclose(r.track("demo", "omar").va[10:60], [[0.5, -0.5]] * 50)


def elsewhere(work: Callable[[], None]) -> None:
    """Run ``work`` on a thread of its own (another workstation), so the GUI thread's reads stay apart."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as e:  # noqa: BLE001 (re-raised on the test's thread)
            failed.append(e)
    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    assert not t.is_alive() and not failed, failed


def test_polling_reads_the_share_off_the_gui_thread(qtbot, tmp_path, tmp_path_factory, monkeypatch):
    """A share that hangs must not freeze the window: what another annotator and the lead saved (indexes, the
    shown video's tracks, project.json) is read by the poll's worker, and the GUI thread only applies it."""
    folder = team_copy(tmp_path, tmp_path_factory)
    win = make_window(qtbot, tmp_path, folder, annotator="lena")
    gui = threading.current_thread()
    reads: dict[str, list[str]] = {"gui": [], "worker": []}

    def spy(name: str, fn: Callable[..., object]) -> Callable[..., object]:
        def spied(*a: object, **k: object) -> object:
            reads["gui" if threading.current_thread() is gui else "worker"].append(name)
            return fn(*a, **k)
        return spied
    for name in ("read_index", "read_track"):
        monkeypatch.setattr(storage, name, spy(name, getattr(storage, name)))
    load = Manifest.load
    monkeypatch.setattr(Manifest, "load", classmethod(lambda cls, *a, **k: spy("manifest", load)(*a, **k)))
    omar: list[Project] = []
    try:
        elsewhere(lambda: omar.append(Project.open(folder, annotator="omar")))
        elsewhere(lambda: label(omar[0], 10, 60, (0.5, -0.5)))
        tl = win.views.timeline
        qtbot.waitUntil(lambda: "omar" in tl._tracks, timeout=10000)
        elsewhere(lambda: label(omar[0], 100, 120, (-0.25, 0.75)))
        qtbot.waitUntil(lambda: np.allclose(tl._curves["omar"][0].yData[100:120], -0.25), timeout=10000)

        def lead_adds_a_video() -> None:
            with Project.open_writable(folder) as lead:
                lead.add_video(folder / "v9.mp4", name="v9", frame_count=100, fps=25)
        elsewhere(lead_adds_a_video)
        tree = win.views.browser.tree
        qtbot.waitUntil(lambda: "v9" in [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())],
                        timeout=10000)
        np.testing.assert_allclose(tl._tracks["omar"].va[10:60], [[0.5, -0.5]] * 50)
    finally:
        if omar:
            omar[0].close()
    assert reads["gui"] == [], reads["gui"]
    assert {"read_index", "read_track", "manifest"} <= set(reads["worker"]), reads["worker"]
    win.close()


def test_banner_while_the_share_is_away_and_nothing_is_lost(qtbot, tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the local spool lives there
    folder = team_copy(tmp_path, tmp_path_factory)
    win = make_window(qtbot, tmp_path, folder, annotator="lena")
    s, p = win.session, win.session.project
    win.team.publish_timer.setInterval(60000)  # saves are made below, when the test says
    assert s.push(s.set_labels("va", 0, 20, (0.25, 0.25)))
    assert win.save(quiet=True)
    lane = lane_root(folder, "lena")
    away = lane.with_name("lena.away")
    os.rename(lane, away)  # the share under the lane is gone (an unplugged NAS looks the same to the app)
    try:
        assert s.push(s.set_labels("va", 30, 50, (-0.5, 0.5)))  # goes into the spool
        qtbot.waitUntil(lambda: win.team.banner.isVisible() and "local spool" in win.team.banner.text(),
                        timeout=10000)
        assert not win.save(quiet=True) and p.offline_since is not None  # saving finds the share gone
        assert s.push(s.set_labels("va", 60, 70, (0.75, -0.75)))  # into the local spool
        assert "local spool" in win.team.banner.text()
    finally:
        os.rename(away, lane)
    qtbot.waitUntil(lambda: "answered again" in win.team.banner.text(), timeout=10000)
    assert p.offline_since is None and not p.unsaved
    assert "spool" in win.team.banner.text() and win.team.banner.isVisible()
    win.close()
    with Project.open(folder, readonly=True) as r:
        va = r.track("demo", "lena").va
        np.testing.assert_allclose(va[0:20], [[0.25, 0.25]] * 20)
        np.testing.assert_allclose(va[30:50], [[-0.5, 0.5]] * 20)
        np.testing.assert_allclose(va[60:70], [[0.75, -0.75]] * 10)


def test_second_window_of_an_annotator_is_read_only_naming_the_holder_and_can_take_over(
        qtbot, tmp_path, tmp_path_factory, monkeypatch):
    folder = team_copy(tmp_path, tmp_path_factory)
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "ws1")
    first = Project.open(folder, annotator="lena")  # lena's session on another workstation
    label(first, 0, 10, (0.5, 0.5))
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "ws2")
    win = make_window(qtbot, tmp_path, folder, annotator="lena")
    p = win.session.project
    assert p.readonly and "ws1" in p.readonly_reason and "lena" in p.readonly_reason
    assert "ws1" in win.views.banner.text() and win.team.take_over_action.isEnabled()
    assert "annotating on ws1" in win.team.banner.text() and "Take over" in win.team.banner.text()
    assert not win.session.can_edit()
    asked: list[str] = []
    assert not win.team.take_over(ask=lambda q: asked.append(q) or False)  # "No": nothing changes
    assert win.session.project is p and p.readonly and "ws1" in asked[0]
    assert win.team.take_over(ask=lambda q: True)
    q = win.session.project
    assert q is not p and not q.readonly and q.lane == "lena" and win.session.can_edit()
    assert win.session.push(win.session.set_labels("va", 20, 30, (-0.5, -0.5)))
    win.close()
    rec = [json.loads(line) for line in (lane_root(folder, "lena") / TAKEOVERS_NAME).read_text().splitlines()]
    assert rec[-1]["by"] == "lena" and rec[-1]["host"] == "ws2" and rec[-1]["from"]["host"] == "ws1"
    first.close()
    with Project.open(folder, readonly=True) as r:
        va = r.track("demo", "lena").va
        np.testing.assert_allclose(va[0:10], [[0.5, 0.5]] * 10)
        np.testing.assert_allclose(va[20:30], [[-0.5, -0.5]] * 10)


def test_merge_copy_from_the_file_menu_asks_on_conflicts_and_is_undoable(qtbot, tmp_path, tmp_path_factory,
                                                                         monkeypatch):
    import shutil

    import app.merge_copy

    folder = team_copy(tmp_path, tmp_path_factory)
    for who in ("lena", "omar"):
        with Project.open(folder, annotator=who) as p:
            label(p, 0, 10, (0.1, 0.1))
    laptop = tmp_path / "laptop"
    shutil.copytree(folder, laptop)
    for who, (a, b), va in (("lena", (100, 150), (0.5, 0.5)), ("omar", (300, 320), (-0.5, 0.25))):
        with Project.open(laptop, annotator=who) as p:  # labelled on the laptop meanwhile
            label(p, a, b, va)
    win = make_window(qtbot, tmp_path, folder, annotator="lena")
    s = win.session
    assert s.push(s.set_labels("va", 120, 130, (-0.75, -0.75)))  # here too: frames 120-129 conflict
    monkeypatch.setattr(app.merge_copy.QFileDialog, "getExistingDirectory", lambda *a, **k: str(laptop))
    asked: list[list[str]] = []
    m = win.team.merge
    m.choose = lambda lines: asked.append(lines) or None  # Cancel: nothing merged
    win.registry["merge_copy"].trigger()
    assert m.busy
    qtbot.waitUntil(lambda: not m.busy, timeout=120000)
    assert asked and any(line.startswith("lena: 10 frame(s)") for line in asked[0]), asked
    assert any("demo/lena VA: frames 120-129" in line for line in asked[0])
    assert "Nothing merged" in m.result
    assert np.isnan(s.project.track("demo", "lena").va[100:120]).all()
    m.choose = lambda lines: "theirs"
    win.registry["merge_copy"].trigger()
    qtbot.waitUntil(lambda: not m.busy, timeout=120000)
    assert m.result.startswith("Merged ") and "copy's labels kept" in m.result, m.result
    np.testing.assert_allclose(s.project.track("demo", "lena").va[100:150], [[0.5, 0.5]] * 50)
    qtbot.waitUntil(lambda: "omar" in win.views.timeline._tracks
                    and np.allclose(win.views.timeline._tracks["omar"].va[300:320], [-0.5, 0.25]), timeout=10000)
    s.stack.undo()  # the merge of lena's lane is one undo step
    va = s.project.track("demo", "lena").va
    assert np.isnan(va[100:120]).all()
    np.testing.assert_allclose(va[120:130], [[-0.75, -0.75]] * 10)
    s.stack.redo()
    win.close()
    with Project.open(folder, readonly=True) as r:
        np.testing.assert_allclose(r.track("demo", "lena").va[100:150], [[0.5, 0.5]] * 50)
        np.testing.assert_allclose(r.track("demo", "omar").va[300:320], [[-0.5, 0.25]] * 20)
        np.testing.assert_allclose(r.track("demo", "omar").va[0:10], [[0.1, 0.1]] * 10)


def test_campaign_queue_next_assigned_progress_table_and_assigning(qtbot, tmp_path, tmp_path_factory):
    from PySide6.QtCore import Qt

    from core.project.campaign import read_assignments

    folder = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "team")
    with Project.open_writable(folder) as p:
        for v in ("v1", "v2"):  # media not here: labels can still be made on the timeline
            p.add_video(folder / f"{v}.mp4", name=v, frame_count=300, fps=25)
        assign(p, ["lena"], ["demo", "v1", "v2"], ["va"])
        assign(p, ["omar"], ["demo"], ["va", "expr"])
    with Project.open(folder, annotator="omar") as omar:
        for i in range(10):
            label(omar, 20 * i, 20 * i + 20, (i / 10, -i / 10 + 0.05))
    win = make_window(qtbot, tmp_path, folder, annotator="lena")
    c, s = win.team.campaign, win.session
    assert c.dock.isVisible() and s.video == "demo"
    qtbot.waitUntil(lambda: c.progress is not None and c.progress.annotator == "lena", timeout=30000)
    assert [q.video for q in c.progress.queue] == ["demo", "v1", "v2"]
    assert c.panel.queue.count() == 3 and "0 of 3 done" in c.panel.queue_title.text()
    for i in range(10):
        assert s.push(s.set_labels("va", 20 * i, 20 * i + 20, (i / 10 + 0.02, -i / 10)))
    win.registry["next_assigned"].trigger()  # Ctrl+Shift+N
    assert s.video == "v1"
    assert s.push(s.set_labels("va", 0, 300, (0.25, 0.25)))  # v1 done
    qtbot.waitUntil(lambda: not s.project.unsaved, timeout=5000)
    win.registry["next_assigned"].trigger()
    assert s.video == "v2"
    win.registry["next_assigned"].trigger()  # wraps round to the video not done yet
    assert s.video == "demo"
    # the lead's view: assign v2's AU to omar from the panel, with v2 selected in the Project list
    tree = win.views.browser.tree
    tree.clearSelection()
    for i in range(tree.topLevelItemCount()):
        tree.topLevelItem(i).setSelected(tree.topLevelItem(i).data(0, Qt.UserRole) == "v2")
    c.panel.who.setText("omar")
    c.panel.task_boxes["va"].setChecked(False)
    c.panel.task_boxes["expr"].setChecked(False)
    n = c.refreshes
    qtbot.mouseClick(c.panel.assign, Qt.LeftButton)
    qtbot.waitUntil(lambda: c.refreshes > n and c.bg.running("progress") is None, timeout=60000)
    assert read_assignments(folder)["omar"] == {"demo": ["va", "expr"], "v2": ["au"]}
    assert "Assigned AU of 1 video(s) to omar" in c.panel.note.text()
    rows = {(c.panel.cell(r, "Annotator"), c.panel.cell(r, "Video")): r for r in range(c.panel.table.rowCount())}
    assert ("omar", "v2") in rows and c.panel.cell(rows[("omar", "v2")], "Assigned") == "AU"
    lv1, ld = rows[("lena", "v1")], rows[("lena", "demo")]
    assert c.panel.cell(lv1, "VA") == "100%" and c.panel.cell(lv1, "Assigned") == "VA"
    with Project.open(folder, readonly=True) as r:  # the table is core's status (what `project status` says)
        from core.project.campaign import status

        core_row = next(x for x in status(r)["rows"] if (x["annotator"], x["video"]) == ("lena", "demo"))
    assert c.panel.cell(ld, "VA CCC") == f"{core_row['agreement']['va_ccc']:.2f}"
    assert c.panel.cell(ld, "Time").endswith(" s") and int(c.panel.cell(ld, "Edits")) >= 10
    assert "lena: 1/3 done" in c.panel.totals.text()
    win.close()


def test_banner_when_the_share_is_full_and_the_spool_replayed_after(qtbot, tmp_path, tmpfs, monkeypatch):  # noqa: F811
    from tests.badinput import fill_disk

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the local spool: off the full share
    folder = tmpfs / "proj"
    p0 = Project.create(folder)
    p0.add_video(folder / "v0.mp4", name="v0", frame_count=300, fps=25)  # media elsewhere: labels only
    p0.save()
    p0.close()
    with Project.open_writable(folder) as p:
        assign(p, ["lena"], ["v0"], ["va"])
    win = make_window(qtbot, tmp_path, None, annotator="lena")
    assert win.open_project(folder)
    s, p = win.session, win.session.project
    assert p.lane == "lena" and s.video == "v0"
    win.team.publish_timer.setInterval(60000)
    assert s.push(s.set_labels("va", 0, 10, (0.5, 0.5))) and win.save(quiet=True)
    filler = fill_disk(tmpfs)
    try:
        made = []
        for i in range(10, 290):  # the journal's last page has some room: edit until the share refuses one
            assert s.push(s.set_labels("va", i, i + 1, (i / 300, -i / 300)))
            made.append(i)
            if p.offline_since is not None:
                break
        assert p.offline_since is not None and "space" in (p.offline_reason or "").lower()
        qtbot.waitUntil(lambda: "local spool" in win.team.banner.text(), timeout=10000)
        assert win.team.banner.isVisible() and "space" in win.team.banner.text().lower()
        for i in range(made[-1] + 1, made[-1] + 6):  # more edits while it is full
            assert s.push(s.set_labels("va", i, i + 1, (i / 300, -i / 300)))
            made.append(i)
    finally:
        filler.unlink()
    qtbot.waitUntil(lambda: "answered again" in win.team.banner.text(), timeout=15000)
    assert p.offline_since is None and not p.unsaved
    win.close()
    with Project.open(folder, readonly=True) as r:
        va = r.track("v0", "lena").va
        np.testing.assert_allclose(va[0:10], [[0.5, 0.5]] * 10)
        for i in made:
            np.testing.assert_allclose(va[i], [i / 300, -i / 300], rtol=1e-6)


def test_a_window_whose_lane_is_taken_over_elsewhere_turns_read_only_and_says_so(qtbot, tmp_path, tmp_path_factory,
                                                                                  monkeypatch):
    folder = team_copy(tmp_path, tmp_path_factory)
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "ws1")
    win = make_window(qtbot, tmp_path, folder, annotator="lena")
    s, p = win.session, win.session.project
    win.team.publish_timer.setInterval(60000)
    assert s.push(s.set_labels("va", 0, 10, (0.5, 0.5)))  # journaled, not saved
    monkeypatch.setenv("AFFECTTRACE_HOSTNAME", "ws2")
    taker = Project.open(folder, annotator="lena", take_over=True)  # asked and confirmed on ws2
    try:
        assert not taker.readonly
        qtbot.waitUntil(lambda: p.readonly, timeout=15000)
        assert any("Read-only now" in e for e in win.errors) and not s.can_edit()
        assert not s.push(s.set_labels("va", 20, 30, (0.1, 0.1)))  # refused, nothing raised
        taker.save()  # the taker replayed the journal: the window's edit is kept
    finally:
        taker.close()
    win.close()
    with Project.open(folder, readonly=True) as r:
        va = r.track("demo", "lena").va
        np.testing.assert_allclose(va[0:10], [[0.5, 0.5]] * 10)
        assert np.isnan(va[20:30]).all()


def test_changing_the_annotator_opens_their_lane_and_frees_the_first(qtbot, tmp_path, tmp_path_factory):
    folder = team_copy(tmp_path, tmp_path_factory)
    win = make_window(qtbot, tmp_path, folder, annotator="lena")
    s = win.session
    assert s.push(s.set_labels("va", 0, 10, (0.5, 0.5)))
    win.projects.set_annotator("omar")  # Edit > Change annotator…
    assert s.project.lane == "omar" and s.annotator == "omar" and not s.project.readonly
    assert "annotator: omar" in win.views.st_user.text()
    assert s.push(s.set_labels("va", 20, 30, (-0.5, 0.5)))
    lena = Project.open(folder, annotator="lena")  # her lane was saved and let go
    try:
        assert not lena.readonly
        np.testing.assert_allclose(lena.track("demo", "lena").va[0:10], [[0.5, 0.5]] * 10)
    finally:
        lena.close()
    win.close()
    with Project.open(folder, readonly=True) as r:
        np.testing.assert_allclose(r.track("demo", "omar").va[20:30], [[-0.5, 0.5]] * 10)
