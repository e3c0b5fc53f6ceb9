"""Is this a video we can annotate, and what is wrong with it? Never raises, never blocks.

``check_media`` refuses what is not a video at all (missing, not a regular file, unreadable, no frame
decodes, a still image) and reports what is damaged but usable in part: a header that promises more
frames than decode (a cut-off file), packets that fail to decode (damaged data). The packet scan
decodes keyframes only, so it costs a fraction of a full decode while every packet is still parsed.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import av

from ..errors import MediaError
from ..safepaths import require_file
from .container import open_container, the_video_stream
from .info import MediaInfo, probe, still_problem


@dataclass(frozen=True)
class MediaCheck:
    path: Path
    usable: bool  # False: not a video at all; refuse it
    problems: tuple[str, ...]  # each in plain words; empty when the file is sound
    info: MediaInfo | None  # None when nothing could be read

    @property
    def message(self) -> str:
        """One line: the file and what is wrong with it."""
        return f"{self.path}: " + ("; ".join(self.problems) if self.problems else "a sound video")


def scan_packets(path: Path) -> tuple[int, int, float | None]:
    """(video packets, packets that fail to decode, duration in s the container claims or None)."""
    container = open_container(path)
    try:
        stream = the_video_stream(container)
        stream.codec_context.skip_frame = "NONKEY"
        claimed = container.duration / av.time_base if container.duration else None
        packets = failed = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                packets += 1
                try:
                    stream.decode(packet)
                except (av.error.InvalidDataError, av.error.UndefinedError, ValueError):
                    failed += 1
        except (av.error.InvalidDataError, av.error.EOFError, av.error.UndefinedError):
            failed += 1  # the data stops in the middle of a packet
        return packets, failed, claimed
    finally:
        container.close()


_CHECKED: OrderedDict[tuple[str, int, int], MediaCheck] = OrderedDict()
_CHECKED_LOCK = threading.Lock()


def check_media(path: str | Path) -> MediaCheck:
    """What is wrong with ``path`` as a video (see the module doc); memoised per (path, size, mtime)."""
    p = Path(path)
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    except OSError:
        return _check(p)
    with _CHECKED_LOCK:
        if key in _CHECKED:
            _CHECKED.move_to_end(key)
            return replace(_CHECKED[key], path=p)
    check = _check(p)
    with _CHECKED_LOCK:
        _CHECKED[key] = check
        while len(_CHECKED) > 64:
            _CHECKED.popitem(last=False)
    return check


def _check(p: Path) -> MediaCheck:
    try:
        require_file(p, MediaError)
        info = probe(p)
        problem = still_problem(info)
        if problem:
            return MediaCheck(p, False, (problem,), info)
        if info.frame_count == 0:
            return MediaCheck(p, False, ("no video frame decodes",), info)
        packets, failed, claimed = scan_packets(p)
    except MediaError as e:
        return MediaCheck(p, False, (e.problem,), None)
    except (av.error.FFmpegError, OSError) as e:
        return MediaCheck(p, False, (f"not a readable media file ({e})",), None)
    problems = []
    n, header = info.frame_count, info.header_frame_count
    if header is not None and header != n:
        problems.append(f"the header says {header} frames, {n} decode (cut off or damaged)")
    elif header is None and claimed is not None and claimed > info.duration_s * 1.05 + 1.0:
        problems.append(f"the header says {claimed:.1f} s, {info.duration_s:.1f} s of frames decode (cut off?)")
    if failed:
        problems.append(f"{failed} of {packets} video packets fail to decode (damaged data)")
    if n == 1:
        problems.append("has only one frame")
    return MediaCheck(p, True, tuple(problems), info)


def require_video(path: str | Path) -> tuple[MediaInfo, list[str]]:
    """(info, problems) of a file that is a usable video; a one-line MediaError naming it when it is not one."""
    check = check_media(path)
    if not check.usable or check.info is None:
        raise MediaError("; ".join(check.problems), path)
    return check.info, list(check.problems)
