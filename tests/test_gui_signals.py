"""SIGINT (Ctrl+C in the terminal) and SIGTERM close the app as Quit does: the work is saved, the lock
released, no traceback, exit status 0."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.gui_support import demo_copy

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_and_quits(tmp_path, tmp_path_factory, sig):
    demo = demo_copy(tmp_path_factory.getbasetemp(), tmp_path / "demo")
    code = textwrap.dedent(f"""
        import gc
        import os
        import signal
        import stat
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from app import launch
        from app.main_window import MainWindow

        def poke():
            w = next((x for x in QApplication.topLevelWidgets() if isinstance(x, MainWindow)), None)
            if w is None or w.session.project is None or w.player.current < 0:
                return QTimer.singleShot(50, poke)
            s = w.session
            s.push(s.set_labels("expr", 5, 15, 2))
            gc.collect()  # the wakeup socket must survive: C writes the signal's byte to its descriptor
            fd = signal.set_wakeup_fd(-1)
            try:
                kind = "socket" if stat.S_ISSOCK(os.fstat(fd).st_mode) else "other"
                signal.set_wakeup_fd(fd)
            except (OSError, ValueError):  # closed, or the number reused by a blocking file
                kind = "closed"
            print("edited", kind, flush=True)

        QTimer.singleShot(0, poke)
        sys.exit(launch.main([{str(demo)!r}, "--annotator", "sig"]))
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([child.stdout], [], [], 120)  # never wait on a child that hangs
        assert ready, f"the app did not come up in 120 s: {_stderr_of(child)}"
        assert child.stdout.readline().strip() == "edited socket", _stderr_of(child)
        child.send_signal(sig)
        rc = child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    err = child.stderr.read()
    assert rc == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Exception ignored" not in err, err
    from core.project import Project

    with Project.open(demo) as p:
        assert not p.readonly, "the lock was released"
        assert p.recovered == 0, "the edit came from a save, not from the journal"
        assert (p.track("demo", "sig").expr[5:15] == 2).all()



def _stderr_of(child: subprocess.Popen) -> str:
    """What a child that went wrong said (it is stopped first, so reading cannot block)."""
    if child.poll() is None:
        child.kill()
        child.wait(timeout=30)
    return child.stderr.read()[-2000:]
