"""Worker processes that are never forked from a process with threads.

The engine's processes run threads (journal sync, media read-ahead, PyAV's decoders). A child made by
``fork`` inherits every lock those threads held at that instant, still held and with no owner: DataLoader
workers were seen asleep for ever on such a lock inside ``torch.cuda.manual_seed_all``. So every worker
process (DataLoader workers, the importers' crop makers) starts from ``worker_context()``: forkserver on
Linux (workers forked from a clean single-threaded server that has already imported what they need, so a
worker starts in a fraction of a second), spawn elsewhere. Each worker opens its files itself (datasets
drop their open HDF5 handles when pickled), and each dies with the process that started it.
"""
from __future__ import annotations

import multiprocessing
import os
from multiprocessing.context import BaseContext
from typing import Any

from ..parentwatch import watch_parent


def worker_context(preload: tuple[str, ...] = ()) -> BaseContext:
    """The multiprocessing context for every worker process of the engine (never 'fork'). ``preload``:
    modules the fork server imports once so that its workers start with them loaded (the first user of
    the server in a process chooses; later ones only lose the head start)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
        return ctx
    return multiprocessing.get_context("spawn")


def _set_parent_death_signal() -> None:
    """Linux: the kernel sends SIGKILL to this process when its parent exits (the fork server, which
    itself exits when the process that uses it dies)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _release_fork_server() -> None:
    """A forkserver child holds a copy of the write end of the pipe by which the fork server learns that
    its user has gone (CPython passes it to every child). Closed here, so that the server exits with
    its user, and this worker with the server."""
    try:
        from multiprocessing import forkserver
    except ImportError:  # a platform without fork servers: spawned workers hold no such pipe
        return
    server: Any = forkserver._forkserver  # its private fields: the pipe has no public handle
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None and getattr(server, "_forkserver_pid", None) is None:  # a child, not the user
        server._forkserver_alive_fd = None
        try:
            os.close(fd)
        except OSError:
            pass


def die_with_parent(*_: object) -> None:
    """Worker initialiser: end this worker when the process that uses it goes (killed, crashed), instead
    of leaving it asleep on a queue for ever. The kernel's parent-death signal where there is one, and a
    watchdog thread that notices the parent is gone (this process is re-parented) everywhere."""
    _release_fork_server()
    parent = os.getppid()
    _set_parent_death_signal()
    if os.getppid() != parent:  # the parent went before the signal was armed
        os._exit(1)

    watch_parent(parent, lambda: os._exit(1))
