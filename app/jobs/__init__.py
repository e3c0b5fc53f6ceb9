"""Engine jobs off the GUI thread: `affecttrace` commands as child processes, one queue per window.

    from app.jobs import runner_for
    job = runner_for(win).submit(["train", folder, "--preset", "mt-tiny"], title="Train mt-tiny")
    job.step.connect(...); job.failed.connect(...); job.finished.connect(...); job.cancel()
"""
from .child import job_threads
from .job import DONE_STATES, Job
from .runner import JobRunner, runner_for

__all__ = ["DONE_STATES", "Job", "JobRunner", "job_threads", "runner_for"]
