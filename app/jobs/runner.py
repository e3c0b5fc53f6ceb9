"""The app's job queue: engine commands run one at a time, each as a child process (app/jobs/child.py)
watched by a worker thread that owns it, with events turned into Qt signals (app/jobs/job.py).

Jobs belong to the runner, not to the dialog that started them, so closing the dialog leaves them
running. One runner per main window: ``runner_for(win)``.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from core.jobevents import decode
from core.words import EndState

from .child import Child
from .job import CANCELLING, DONE_STATES, QUEUED, RUNNING, Job

GRACE_S = 30.0  # after the SIGINT: time to finish the step and write last.pt before terminate
KILL_S = 5.0  # after terminate: before kill


class JobRunner(QObject):
    jobAdded = Signal(object)
    jobStarted = Signal(object)
    jobFinished = Signal(object)

    def __init__(self, parent: QObject | None = None, grace_s: float = GRACE_S, threads: int | None = None) -> None:
        super().__init__(parent)
        self.grace_s, self.threads = grace_s, threads
        self.jobs: list[Job] = []
        self.current: Job | None = None
        self._child: Child | None = None
        self._worker: threading.Thread | None = None

    # ------------------------------------------------------------------ queue
    def submit(self, argv: list[str], title: str = "") -> Job:
        """Queue `affecttrace ARGV --events`; it starts when the jobs before it are done."""
        job = Job(argv, title, self)
        self.jobs.append(job)
        job.finished.connect(lambda _state, j=job: self._done(j), Qt.QueuedConnection)
        self.jobAdded.emit(job)
        self._next()
        return job

    @property
    def queued(self) -> list[Job]:
        return [j for j in self.jobs if j.state == QUEUED]

    @property
    def busy(self) -> bool:
        return self.current is not None or bool(self.queued)

    def _next(self) -> None:
        if self.current is not None:
            return
        job = next(iter(self.queued), None)
        if job is None:
            return
        self.current = job
        try:
            child = Child(job.argv, self.threads)
        except OSError as e:
            self.current = None
            job._set_state(RUNNING)
            job._exited.emit(127, [f"cannot start the engine: {e.strerror or e}"])
            return
        self._child = child
        job._set_state(RUNNING)
        self.jobStarted.emit(job)
        self._worker = threading.Thread(target=_watch, args=(job, child), name=f"job-{job.command}", daemon=True)
        self._worker.start()

    @Slot()
    def _done(self, job: Job) -> None:
        if job is self.current:
            if self._worker is not None:
                self._worker.join(1.0)
            self.current, self._child, self._worker = None, None, None
        self.jobFinished.emit(job)
        self._next()

    # ------------------------------------------------------------------ cancel
    def cancel(self, job: Job) -> None:
        if job.state == QUEUED:
            job.cancel_requested = True
            job._set_state(EndState.CANCELLED.value)
            job.finished.emit(EndState.CANCELLED.value)
            return
        if job is not self.current or self._child is None or job.done:
            return
        child = self._child
        if job.cancel_requested:  # asked twice: stop now
            child.terminate()
            QTimer.singleShot(int(KILL_S * 1000), child.kill)
            return
        job.cancel_requested = True
        job._set_state(CANCELLING)
        child.interrupt()

        def escalate() -> None:
            if child.running():
                child.terminate()
                QTimer.singleShot(int(KILL_S * 1000), child.kill)

        QTimer.singleShot(int(self.grace_s * 1000), escalate)

    def cancel_all(self) -> None:
        for job in list(self.queued):
            self.cancel(job)
        if self.current is not None:
            self.cancel(self.current)

    def wait(self, timeout_s: float = 60.0) -> bool:
        """Run the event loop until no job runs or is queued (True) or the timeout (False)."""
        if not self.busy:
            return True
        loop = QEventLoop()
        check = QTimer()
        check.setInterval(50)
        end = time.monotonic() + timeout_s
        check.timeout.connect(lambda: (not self.busy or time.monotonic() > end) and loop.quit())
        check.start()
        loop.exec()
        check.stop()
        return not self.busy

    # ------------------------------------------------------------------ quitting
    def confirm_close(self, parent: QWidget | None = None, ask: Callable[[], str] | None = None) -> bool:
        """For the main window's closeEvent: True when the window may close. With jobs running or queued,
        asks (``ask`` returns 'stop', 'wait' or 'cancel'): stop them (training keeps its last
        checkpoint) or wait for them, with a progress dialog whose button stops them; 'cancel' keeps
        the window open."""
        if not self.busy:
            return True
        answer = (ask or (lambda: _ask_stop_or_wait(parent, self)))()
        if answer == "cancel":
            return False
        if answer == "stop":
            self.cancel_all()
        dlg = QProgressDialog(parent)
        dlg.setWindowTitle("AffectTrace")
        dlg.setRange(0, 0)
        dlg.setCancelButtonText("Stop now" if answer == "wait" else "Stop at once")
        dlg.setMinimumDuration(0)
        dlg.setWindowModality(Qt.WindowModal)
        dlg.canceled.connect(self._stop_now)
        label = QTimer(dlg)
        label.setInterval(250)
        label.timeout.connect(lambda: dlg.setLabelText(self._waiting_text(answer)))
        label.start()
        dlg.setLabelText(self._waiting_text(answer))
        dlg.show()
        while self.busy:
            self.wait(1.0)
        label.stop()
        dlg.close()
        dlg.deleteLater()
        return True

    def _waiting_text(self, answer: str) -> str:
        job = self.current
        what = job.title if job is not None else "the queued jobs"
        verb = "Stopping" if answer == "stop" or (job is not None and job.cancel_requested) else "Waiting for"
        return f"{verb} {what} before quitting ({len(self.queued)} more queued)…"

    @Slot()
    def _stop_now(self) -> None:
        for job in list(self.queued):
            self.cancel(job)
        if self.current is not None:
            if not self.current.cancel_requested:
                self.cancel(self.current)
            self.cancel(self.current)  # the second cancel terminates


def _watch(job: Job, child: Child) -> None:
    """Worker thread: every event line of the child to the job (queued to the GUI thread), then its exit.
    Should the job object be gone (its window closed), the child is still read to its end and reaped."""
    alive = True
    try:
        for line in child.lines():
            ev = decode(line)
            if ev is not None and alive:
                try:
                    job._event.emit(ev)
                except RuntimeError:  # deleted with its runner
                    alive = False
    finally:
        code = child.wait()
        tail = child.stderr_tail()
        if alive:
            try:
                job._exited.emit(code, tail)
            except RuntimeError:
                pass


def _ask_stop_or_wait(parent: QWidget | None, runner: JobRunner) -> str:
    job = runner.current or next(iter(runner.queued), None)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Question)
    box.setWindowTitle("A job is running")
    more = len(runner.queued) - (0 if runner.current is not None else 1)
    box.setText(f"{job.title if job else 'A job'} is still running" + (f" ({more} more queued)" if more > 0 else "")
                + ". Stop it (a training run keeps its last checkpoint) or wait for it to finish?")
    stop = box.addButton("Stop and quit", QMessageBox.DestructiveRole)
    wait = box.addButton("Wait, then quit", QMessageBox.AcceptRole)
    box.addButton(QMessageBox.Cancel)
    box.setDefaultButton(wait)
    box.exec()
    clicked = box.clickedButton()
    return "stop" if clicked is stop else "wait" if clicked is wait else "cancel"


def runner_for(win: QObject) -> JobRunner:
    """The job runner of a main window (made on first use, a child of the window)."""
    runner = win.findChild(JobRunner)
    if runner is None:
        runner = JobRunner(win)
    return runner


__all__ = ["DONE_STATES", "GRACE_S", "JobRunner", "runner_for"]
