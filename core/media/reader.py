"""MediaReader: frame-exact random access with an LRU cache and background read-ahead."""
from __future__ import annotations

import os
import queue
import sys
import threading
import weakref
from bisect import bisect_right
from collections import OrderedDict
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from ..errors import MediaError
from .audio import decode_audio
from .container import Cursor
from .frameindex import FrameIndex
from .info import MediaInfo, cached_index, still_problem

_ALLOCATOR_TUNED = False


def _tune_allocator() -> None:
    """Keep frame-sized buffers in the malloc heap instead of mmap/munmap per frame.

    Every RGB frame is a fresh multi-MB buffer; with glibc's defaults, a caller that holds the last
    frame while the next is made gets each one from a new mmap: ~500 page faults per 720p frame,
    halving decode throughput. Pinning the mmap threshold at 32 MB (the ceiling glibc's own dynamic
    threshold reaches) and trimming only above 128 MB reuses the same memory. Process-wide; glibc
    only; skipped when the user set MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_.
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return
    _ALLOCATOR_TUNED = True
    user_set = any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"))
    if sys.platform != "linux" or user_set:
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


class FrameRangeError(MediaError, IndexError):
    """A frame index outside 0..len-1."""


def to_rgb(frame: av.VideoFrame, readonly: bool = True) -> np.ndarray:
    """(H, W, 3) uint8 RGB; read-only by default (cached arrays are shared between callers)."""
    rgb: np.ndarray = frame.to_ndarray(format="rgb24")
    if not rgb.flags.c_contiguous:
        rgb = np.ascontiguousarray(rgb)
    rgb.flags.writeable = not readonly
    return rgb


class MediaReader:
    """Reads frames of one video by index; thread-safe.

    ``frame(i)`` returns exactly frame i (0-based, presentation order). Frames just decoded are kept
    in an LRU cache of ``cache_frames``; with ``readahead`` a background thread keeps decoding the
    frames after the last one asked for, so playback reads hit the cache. Returned arrays are
    read-only: copy before drawing on them.
    """

    def __init__(self, path: str | Path, cache_frames: int = 64, readahead: bool = True) -> None:
        self.path = Path(path)
        _tune_allocator()
        self._index, info = cached_index(self.path)
        self.info: MediaInfo = info
        if len(self._index) == 0:
            raise MediaError("no video frame decodes", self.path)
        problem = still_problem(info)
        if problem:
            raise MediaError(problem, self.path)
        self._cursor = Cursor(self.path, self._index)
        self._lock = threading.RLock()  # guards the cursor (decoder state)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_frames = max(0, int(cache_frames))
        self.readahead_frames = min(16, self.cache_frames // 2)
        self._behind = min(8, self.cache_frames // 4)  # frames kept when decoding up to a target
        self._times = self._frame_times()
        self._last: int | None = None  # the last index asked for (access pattern)
        self._closed = False
        self._wanted = (0, -1)
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        if readahead and self.readahead_frames > 0:
            self._thread = threading.Thread(target=self._readahead_loop, args=(weakref.ref(self), self._wake),
                                            name=f"readahead:{self.path.name}", daemon=True)
            self._thread.start()

    # --- metadata ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._index)

    def _frame_times(self) -> np.ndarray:
        index = self._index
        if index.mode == "pts":
            return ((index.pts - index.pts[0]).astype(np.float64) * float(index.time_base))
        return np.arange(len(index), dtype=np.float64) / float(self.info.fps)

    def time_of(self, i: int) -> float:
        """Seconds from the first frame to frame ``i`` (its presentation time)."""
        return float(self._times[self._check(i)])

    def index_at(self, t_s: float) -> int:
        """The frame shown at ``t_s`` seconds (clamped to the video)."""
        return int(min(max(bisect_right(self._times, t_s + 1e-9) - 1, 0), len(self) - 1))

    def _check(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < len(self):
            raise FrameRangeError(f"frame {i} out of range (the video has frames 0..{len(self) - 1})",
                                  self.path)
        return i

    # --- frames -------------------------------------------------------------------------------
    def frame(self, i: int) -> np.ndarray:
        """Exactly frame ``i`` as (H, W, 3) uint8 RGB."""
        i = self._check(i)
        self._ensure_open()
        # Playing forward: read ahead fully. Stepping back: keep the frames before i on a miss.
        # A jump: read ahead a little only, the next request may be anywhere.
        step = None if self._last is None else i - self._last
        self._last = i
        rgb = self._cached(i)
        if rgb is None:
            with self._lock:
                rgb = self._cached(i)
                if rgb is None:
                    rgb = self._decode(i, self._behind if step is not None and -4 <= step < 0 else 0)
        forward = step is not None and 0 <= step <= 4
        self._want(i + 1, i + (self.readahead_frames if forward else min(4, self.readahead_frames)))
        return rgb

    def cached(self, i: int) -> np.ndarray | None:
        """Frame ``i`` if it is in the cache (never decodes)."""
        return self._cached(int(i))

    def prefetch(self, start: int, stop: int) -> None:
        """Ask the read-ahead thread to decode frames start..stop-1 (at most ``readahead_frames``
        of them; returns at once; replaces the previous request)."""
        self._want(int(start), min(int(stop), int(start) + self.readahead_frames) - 1)

    def _cached(self, i: int) -> np.ndarray | None:
        with self._cache_lock:
            rgb = self._cache.get(i)
            if rgb is not None:
                self._cache.move_to_end(i)
            return rgb

    def _put(self, i: int, rgb: np.ndarray) -> None:
        if self.cache_frames == 0:
            return
        with self._cache_lock:
            self._cache[i] = rgb
            self._cache.move_to_end(i)
            while len(self._cache) > self.cache_frames:
                self._cache.popitem(last=False)

    def _decode(self, i: int, keep: int = 0) -> np.ndarray:
        """Decode frame i (caller holds the lock), caching it and the ``keep`` frames before it."""
        behind = i - keep

        def keep_frame(idx: int, frame: av.VideoFrame) -> None:
            if idx >= behind and idx not in self._cache:
                self._put(idx, to_rgb(frame))

        try:
            rgb = to_rgb(self._cursor.frame(i, on_pass=keep_frame if keep else None, keep_from=behind))
        except av.error.FFmpegError as e:
            raise MediaError(f"decoding frame {i} failed ({e})", self.path) from e
        self._put(i, rgb)
        return rgb

    def _want(self, lo: int, hi: int) -> None:
        """Read ahead frames lo..hi (inclusive) in the background."""
        if self._thread is None:
            return
        with self._wake:
            self._wanted = (max(0, lo), min(hi, len(self) - 1))
            self._wake.notify()

    def _missing(self) -> int | None:
        lo, hi = self._wanted
        for j in range(lo, hi + 1):
            if j not in self._cache:
                return j
        return None

    @staticmethod
    def _readahead_loop(ref: "weakref.ref[MediaReader]", wake: threading.Condition) -> None:
        # Holds the reader only weakly between steps, so a reader nobody closes is still collected.
        while True:
            with wake:
                reader = ref()
                if reader is None or reader._closed:
                    return
                j = reader._missing()
                if j is None:
                    del reader
                    wake.wait(timeout=1.0)
                    continue
            with reader._lock:  # one frame per turn, so a caller's request gets in between
                if not reader._closed and j not in reader._cache:
                    try:
                        reader._decode(j)
                    except MediaError:
                        reader._wanted = (0, -1)
            del reader

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """(index, RGB frame) for start <= index < stop, decoded ahead in a background thread.

        The RGB conversion happens in the caller's thread, in parallel with decoding the next frames.
        These arrays are the caller's own (writable, not cached).

        Uses its own decoder, so random access on this reader meanwhile is not disturbed.
        """
        stop = len(self) if stop is None else min(int(stop), len(self))
        start = self._check(start) if start < len(self) else start
        if start >= stop:
            return
        self._ensure_open()
        frames: queue.Queue = queue.Queue(maxsize=8)
        halt = threading.Event()

        # the worker gets the path and index, not the reader: it must not keep the reader alive
        worker = threading.Thread(target=_decode_ahead, args=(self.path, self._index, start, stop, frames, halt),
                                  name=f"iter:{self.path.name}", daemon=True)
        worker.start()
        try:
            while True:
                item = frames.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    if isinstance(item, av.error.FFmpegError):
                        raise MediaError(f"decoding failed ({item})", self.path) from item
                    raise item
                yield item[0], to_rgb(item[1], readonly=False)  # here: overlaps decoding the next
        finally:
            halt.set()
            while worker.is_alive():
                try:
                    frames.get(timeout=0.05)
                except queue.Empty:
                    pass
            worker.join()

    # --- audio --------------------------------------------------------------------------------
    def audio(self, rate: int = 16000, mono: bool = True) -> np.ndarray:
        """The audio track as float32, sample 0 at the first video frame's time, as long as the video
        (zeros where the track does not reach). (samples,) when mono, else (samples, channels)."""
        if not self.info.has_audio:
            raise MediaError("has no audio track", self.path)
        start = float(self._index.pts[0] * self._index.time_base) if self._index.mode == "pts" else 0.0
        return decode_audio(self.path, rate, mono, start, int(round(self.info.duration_s * rate)))

    def sample_of_frame(self, i: int, rate: int) -> int:
        """First audio sample (at ``rate``) of frame ``i`` in the array ``audio(rate)`` returns."""
        return int(round(self.time_of(i) * rate))

    def frame_of_sample(self, s: int, rate: int) -> int:
        """The frame shown while audio sample ``s`` plays."""
        return self.index_at(s / rate)

    # --- lifetime -----------------------------------------------------------------------------
    def _ensure_open(self) -> None:
        if self._closed:
            raise MediaError("reader is closed", self.path)

    def close(self) -> None:
        if self._closed:
            return
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._cursor.close()
        with self._cache_lock:
            self._cache.clear()

    def __enter__(self) -> "MediaReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _decode_ahead(path: Path, index: FrameIndex, start: int, stop: int, frames: queue.Queue,
                  halt: threading.Event) -> None:
    """iter_frames' worker: (index, frame) for start <= index < stop into ``frames``, then an exception
    if decoding failed (the consumer raises it), then None; gives up when ``halt`` is set."""

    def offer(item: object) -> None:
        while not halt.is_set():
            try:
                frames.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    cursor = None
    try:
        cursor = Cursor(path, index)
        for idx, frame in cursor.iterate(start):
            if idx >= stop or halt.is_set():
                break
            if idx >= start:
                offer((idx, frame))
    except BaseException as e:  # handed to the consumer, raised there
        offer(e)
    finally:
        if cursor is not None:
            cursor.close()
        offer(None)
