"""Projects in the window: annotator identity, autosave and reopen, crash recovery, read-only when
another process holds the project, missing media and relocation, a project beside a video."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.labels import EXPR_MISSING
from tests.gui_support import demo_copy, make_window, wait_frame

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo(tmp_path, tmp_path_factory) -> Path:
    return demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")


def _child(code: str) -> subprocess.Popen:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_opens_demo_with_default_annotator_stamped_not_remembered(qtbot, tmp_path, demo):
    from app.settings import default_annotator

    win = make_window(qtbot, tmp_path, demo, annotator="")
    me = default_annotator()
    assert win.session.annotator == me and me in win.session.project.annotators
    assert win.settings.remembered_annotator() == "", "nobody chose it: a later plain start still asks"
    assert win.views.browser.tree.topLevelItemCount() == len(win.session.project.videos)
    assert win.views.video.frame_size() == (320, 240)
    assert {t.name for t in win.session.human_tracks()} >= {"ann1", "ann2", "ann3", me}
    win.annot.press_expr(1)
    win.annot.release_expr(1)
    cmd = win.session.stack.command(0)
    assert all(e.author == me for e in cmd.edits)
    win.close()


def test_autosave_and_reopen(qtbot, tmp_path, demo):
    win = make_window(qtbot, tmp_path, demo)
    s = win.session
    s.push(s.set_labels("expr", 100, 150, 5))
    win.autosave.setInterval(100)
    win.autosave.start()
    qtbot.waitUntil(lambda: not s.project.unsaved, timeout=10000)
    win.close()
    from core.project import Project

    with Project.open(demo) as p:
        assert p.recovered == 0, "the labels came from the save, not the journal"
        t = p.track("demo", "tester")
        assert (t.expr[100:150] == 5).all() and t.expr[99] == EXPR_MISSING


def test_recovered_work_shown_after_a_crash(qtbot, tmp_path, demo):
    child = _child(f"""
        import os, time
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication
        from app.main_window import MainWindow
        from app.settings import Settings
        app = QApplication([])
        s = Settings(QSettings({str(tmp_path / 'child.ini')!r}, QSettings.IniFormat))
        s.annotator = "crasher"
        w = MainWindow(s, interactive=False)
        w.open_project({str(demo)!r})
        ses = w.session
        ses.push(ses.set_labels("va", 10, 60, [0.25, -0.5]))
        t0 = time.time()
        while time.time() - t0 < 1.5:
            app.processEvents()
            time.sleep(0.01)
        print("edited", flush=True)
        os._exit(9)  # no save, no close: a crash
    """)
    out, err = child.communicate(timeout=120)
    assert "edited" in out, err
    win = make_window(qtbot, tmp_path, demo)
    assert win.views.banner.isVisible() and "Recovered" in win.views.banner.text()
    t = win.session.project.track("demo", "crasher")
    np.testing.assert_allclose(t.va[10:60], [[0.25, -0.5]] * 50)
    win.close()


def test_project_held_by_another_process_opens_read_only(qtbot, tmp_path, demo):
    child = _child(f"""
        import sys
        from core.project import Project
        p = Project.open({str(demo)!r})
        print("holding", flush=True)
        sys.stdin.read()
        p.close()
    """)
    try:
        assert child.stdout.readline().strip() == "holding"
        win = make_window(qtbot, tmp_path, demo)
        assert win.session.readonly
        assert win.views.banner.isVisible() and "Read-only" in win.views.banner.text()
        assert "read-only" in win.windowTitle()
        win.annot.press_expr(2)
        win.annot.release_expr(2)
        win.annot.set_armed(True)
        assert not win.annot.armed and win.session.stack.count() == 0
        win.close()
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def test_missing_media_flagged_and_relocated(qtbot, tmp_path, demo):
    from core.project import Project

    media = demo / "media" / "demo.mp4"
    folder = tmp_path / "moved"
    with Project.create(folder) as p:
        p.add_video(tmp_path / "nowhere" / "clip.mp4", name="clip", frame_count=500, fps=25)
        p.save()
    win = make_window(qtbot, tmp_path, None)
    assert win.open_project(folder)
    item = win.views.browser.tree.topLevelItem(0)
    assert item.text(5).startswith("missing")
    assert "missing" in win.views.banner.text().lower()
    assert win.views.video.frame_size() is None and "not found" in win.views.video.message
    win.session.project.relocate("clip", media)
    win.show_video("clip")
    wait_frame(qtbot, win, 0)
    assert win.views.video.frame_size() == (320, 240)
    win.close()


def test_video_argument_makes_then_reopens_a_project_beside_it(qtbot, tmp_path, demo):
    from app.opening import folder_for_video

    clip = tmp_path / "videos" / "talk.mp4"
    clip.parent.mkdir()
    shutil.copy(demo / "media" / "demo.mp4", clip)
    win = make_window(qtbot, tmp_path, None)
    assert win.open_video_file(clip)
    wait_frame(qtbot, win, 0)
    folder = folder_for_video(clip)
    assert (folder / "project.json").exists() and win.session.video == "talk"
    win.session.push(win.session.set_labels("expr", 0, 10, 3))
    win.close()
    win2 = make_window(qtbot, tmp_path, None)
    assert win2.open_video_file(clip)
    assert list(win2.session.project.videos) == ["talk"]
    assert (win2.session.project.track("talk", "tester").expr[:10] == 3).all()
    win2.close()


def test_face_box_and_landmarks_overlay_from_the_face_cache(qtbot, tmp_path, demo):
    import h5py

    path = demo / "cache" / "faces" / "demo.h5"
    path.parent.mkdir(parents=True, exist_ok=True)
    m = 10
    boxes = np.array([[40 + i, 30, 200 + i, 210] for i in range(m)], np.float32)
    marks = np.stack([np.stack([np.linspace(60, 180, 68), np.full(68, 100.0 + i)], axis=1) for i in range(m)])
    with h5py.File(path, "w") as f:  # the face cache layout of the contract (cache/faces/<video>.h5)
        f["frames"] = np.arange(m, dtype=np.int32)
        f["crops"] = np.zeros((m, 112, 112, 3), np.uint8)
        f["landmarks"] = marks.astype(np.float32)
        f["boxes"] = boxes
        f["scores"] = np.ones(m, np.float32)
        f["no_face"] = np.arange(m, 500, dtype=np.int32)
        f.attrs.update(n_frames=500, backend="test", complete=True)
    win = make_window(qtbot, tmp_path, demo)
    qtbot.waitUntil(lambda: win.faces is not None, timeout=15000)
    win.player.seek(5)
    wait_frame(qtbot, win, 5)
    np.testing.assert_allclose(win.views.video.box, boxes[5])
    np.testing.assert_allclose(win.views.video.landmarks, marks[5])
    win.player.seek(20)  # no face there: nothing drawn
    wait_frame(qtbot, win, 20)
    assert win.views.video.box is None and win.views.video.landmarks is None
    win.close()
