"""Decoding off the GUI thread: a worker that reads ahead while playing and fetches stills on demand.

The worker owns its frame source (a core.media.MediaReader, or anything with ``frame(i)`` and
``iter_frames(start)``). The GUI thread only takes finished frames out of the buffer.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Iterator, Protocol

import numpy as np


class FrameSource(Protocol):
    def __len__(self) -> int: ...
    def frame(self, i: int) -> np.ndarray: ...
    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]: ...
    def close(self) -> None: ...


class DecodeWorker(threading.Thread):
    """Read-ahead decoder. ``play_from(i)`` starts sequential decoding at i; ``request(i, serial)`` one still.

    ``on_still(serial, i, frame)`` and ``on_error(msg)`` are called from the worker thread (the player
    forwards them through a queued Qt signal); ``serial`` is the request's, so the player can tell a
    superseded still from the one it waits for.
    """

    def __init__(self, open_source: Callable[[], FrameSource], readahead: int = 24,
                 on_still: Callable[[int, int, np.ndarray], None] | None = None,
                 on_error: Callable[[str], None] | None = None,
                 size: Callable[[], tuple[int, int] | None] | None = None) -> None:
        super().__init__(name="affecttrace-decode", daemon=True)
        self._open = open_source
        self.readahead = max(2, readahead)
        self.on_still = on_still or (lambda serial, i, f: None)
        self.on_error = on_error or (lambda m: None)
        self.size = size or (lambda: None)  # where the frame will be shown: scale here, off the GUI thread
        self._cond = threading.Condition()
        self._buf: OrderedDict[int, np.ndarray] = OrderedDict()
        self._gen = 0
        self._play_start: int | None = None
        self._still: tuple[int, int] | None = None  # (index, serial) of the still asked for
        self._quit = False
        self.decoded = 0

    # --- GUI side ---
    def play_from(self, start: int) -> None:
        with self._cond:
            self._gen += 1
            self._buf.clear()
            self._play_start = start
            self._cond.notify_all()

    def halt(self) -> None:
        """Stop sequential decoding (pause); buffered frames are dropped."""
        with self._cond:
            self._gen += 1
            self._buf.clear()
            self._play_start = None
            self._cond.notify_all()

    def request(self, i: int, serial: int = 0) -> None:
        with self._cond:
            self._still = (i, serial)
            self._cond.notify_all()

    def take(self, target: int) -> tuple[int, np.ndarray] | None:
        """The newest buffered frame with index <= target; older ones are dropped (skipped)."""
        with self._cond:
            best = None
            while self._buf:
                i = next(iter(self._buf))
                if i > target:
                    break
                best = (i, self._buf.pop(i))
            if best is not None:
                self._cond.notify_all()
            return best

    def buffered(self) -> int:
        with self._cond:
            return len(self._buf)

    def stop(self) -> None:
        with self._cond:
            self._quit = True
            self._gen += 1
            self._cond.notify_all()

    # --- worker side ---
    def _tell(self, callback: Callable[..., None], *args: object) -> None:
        """Call the player back unless stopped, under the lock: once ``stop()`` returns no callback runs or
        will run, so a worker that outlives the player's join never reaches a deleted player."""
        with self._cond:
            if not self._quit:
                callback(*args)

    def run(self) -> None:
        try:
            src = self._open()
        except Exception as e:
            self._tell(self.on_error, str(e))
            return
        try:
            self._loop(src)
        finally:
            try:
                src.close()
            except Exception:
                pass

    def _loop(self, src: FrameSource) -> None:
        while True:
            with self._cond:
                while not self._quit and self._still is None and self._play_start is None:
                    self._cond.wait()
                if self._quit:
                    return
                still, self._still = self._still, None
                start, gen = self._play_start, self._gen
                if start is not None and still is None:
                    self._play_start = None
            if still is not None:
                self._decode_still(src, still)
                continue
            self._decode_run(src, start, gen)

    def _fit(self, f: np.ndarray) -> np.ndarray:
        """Make a frame ready to blit, here off the GUI thread: shrunk to the display size (area
        filter, never enlarged) and in the screen's 32-bit BGRX layout (Qt's RGB32, no conversion
        when drawn)."""
        import cv2  # lazily: start-up does not pay for it

        want = self.size()
        h, w = f.shape[:2]
        if want and (want[0] < w or want[1] < h):
            s = min(want[0] / w, want[1] / h)
            f = cv2.resize(f, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(f, cv2.COLOR_RGB2BGRA)

    def _decode_still(self, src: FrameSource, still: tuple[int, int]) -> None:
        i, serial = still
        try:
            f = self._fit(src.frame(i))
        except Exception as e:
            self._tell(self.on_error, f"frame {i}: {e}")
            return
        with self._cond:
            superseded = self._still is not None
        if not superseded:
            self._tell(self.on_still, serial, i, f)

    def _decode_run(self, src: FrameSource, start: int, gen: int) -> None:
        try:
            for i, f in src.iter_frames(start):
                f = self._fit(f)
                with self._cond:
                    while (len(self._buf) >= self.readahead and gen == self._gen and not self._quit
                           and self._still is None):
                        self._cond.wait(0.1)
                    if gen != self._gen or self._quit:
                        return
                    self._buf[i] = f
                    self.decoded += 1
                    if self._still is not None:  # serve the still, then resume after i
                        self._play_start = i + 1
                        return
        except Exception as e:
            self._tell(self.on_error, f"decoding from frame {start}: {e}")
