"""The child process of an engine job: `affecttrace CMD ... --events`, started so that it never slows
the player down and never takes the app with it.

- It is a separate process, so a training loop never holds the GUI's GIL, and a crash, CUDA
  out-of-memory, NaN or kill in it ends only the job.
- On the CPU it leaves a core to the GUI: OMP/MKL/OpenBLAS threads (torch's intra-op pool reads
  OMP_NUM_THREADS at start) = usable cores - 1, at least 1; and it runs at a lower scheduling
  priority (``os.setpriority`` to nice +10 right after the start, before torch makes its threads,
  which inherit it). On CUDA the thread cap costs nothing: the GPU does the work.
- It starts in its own session, so a Ctrl-C in the terminal that runs the app does not reach it;
  the app cancels it with SIGINT (see core/cli/train_cmd.py: training stops after the step and keeps
  last.pt), then terminates it, then kills it. An app that is killed cannot: the child notices it was
  re-parented and interrupts itself the same way (core/parentwatch.py).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import IO, Iterator

from core.parentwatch import PARENT_ENV

REPO = Path(__file__).resolve().parents[2]
NICE = 10
STDERR_TAIL = 40  # lines of the child's stderr kept for the failure message


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def job_threads() -> int:
    """Threads for a job's maths: every usable core but one (the GUI's), at least one."""
    return max(1, usable_cores() - 1)


def engine_command() -> list[str]:
    """How to run `affecttrace`: the packaged executable beside a frozen app, else this Python."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable).with_name("affecttrace" + (".exe" if os.name == "nt" else ""))
        return [str(exe)]
    return [sys.executable, "-m", "core.cli"]


def child_env(threads: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    n = str(threads or job_threads())
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[key] = n
    env["PYTHONUNBUFFERED"] = "1"
    env[PARENT_ENV] = str(os.getpid())  # the job stops when the app goes, even killed (core.parentwatch)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.pop("AFFECTTRACE_DEBUG", None)  # one line per failure, never a traceback on stdout
    return env


class Child:
    """One running command: its stdout lines, its exit, the tail of its stderr, and how to stop it."""

    def __init__(self, argv: list[str], threads: int | None = None) -> None:
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        kw: dict = {"start_new_session": True} if os.name == "posix" else \
            {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
        self.proc = subprocess.Popen([*engine_command(), *argv, "--events"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._stderr, env=child_env(threads),
                                     cwd=str(REPO), **kw)
        if hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, self.proc.pid, NICE)
            except OSError:  # already gone, or not allowed: it only runs at the normal priority
                pass

    @property
    def pid(self) -> int:
        return self.proc.pid

    def lines(self) -> Iterator[str]:
        """Its stdout, line by line, until it closes (blocking: call from the worker thread)."""
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            yield raw.decode("utf-8", errors="replace")

    def wait(self) -> int:
        return self.proc.wait()

    def stderr_tail(self) -> list[str]:
        self._stderr.seek(0)
        tail: deque[str] = deque(maxlen=STDERR_TAIL)
        for raw in self._stderr:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if line:
                tail.append(line)
        self._stderr.close()
        return list(tail)

    def running(self) -> bool:
        return self.proc.poll() is None

    def interrupt(self) -> None:
        """Ask it to stop (SIGINT: the commands stop cleanly)."""
        if not self.running():
            return
        if os.name == "posix":
            self.proc.send_signal(signal.SIGINT)
        else:
            self.proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]

    def terminate(self) -> None:
        if self.running():
            self.proc.terminate()

    def kill(self) -> None:
        if self.running():
            self.proc.kill()
