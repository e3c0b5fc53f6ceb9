"""Processes that end with the one that started them, even when it is killed (SIGKILL, a crash).

A watchdog thread notices that this process was re-parented. Loader and import workers end at once
(``core.data.workers.die_with_parent``); an engine command the app runs as a job stops as Ctrl-C would
stop it (a training ends after its step and keeps last.pt), so a killed app leaves no training behind
holding the GPU and the cores.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from typing import Callable

PARENT_POLL_S = 0.5
PARENT_ENV = "AFFECTTRACE_PARENT_PID"  # set by the app for its job children: its own pid
STOP_GRACE_S = 60.0  # after the clean stop was asked for, the command ends for good


def watch_parent(parent: int, on_gone: Callable[[], None], poll_s: float = PARENT_POLL_S) -> threading.Thread:
    """Call ``on_gone`` (on a daemon thread) once ``parent`` is no longer this process's parent."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        on_gone()

    t = threading.Thread(target=watch, name="affecttrace-parent-watch", daemon=True)
    t.start()
    return t


def stop_with_parent() -> bool:
    """For a command started by the app (PARENT_ENV names its parent): when the app goes, interrupt this
    process (SIGINT: the commands stop cleanly), and end it STOP_GRACE_S later if it has not ended. Returns
    whether it watches (not when PARENT_ENV is unset or names another process, e.g. under torchrun)."""
    raw = os.environ.get(PARENT_ENV, "")
    if not raw.isdigit() or int(raw) != os.getppid():
        return False

    def gone() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(STOP_GRACE_S)
        os._exit(130)

    watch_parent(int(raw), gone)
    return True
