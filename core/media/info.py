"""MediaInfo: what a media file holds, as the rest of the product needs it."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from .container import the_video_stream
from .frameindex import FrameIndex
from .index import build_index


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    fps: Fraction  # nominal rate for constant-rate files; mean rate when variable
    frame_count: int  # frames that decode
    header_frame_count: int | None  # what the container claims (None: it does not say)
    width: int
    height: int
    duration_s: float
    variable_frame_rate: bool
    has_audio: bool
    audio_rate: int | None
    audio_channels: int | None
    video_codec: str
    container: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        d["fps"] = f"{self.fps.numerator}/{self.fps.denominator}"
        return d


STILL_CODECS = ("mjpeg", "png", "bmp", "webp", "tiff", "gif", "jpeg2000", "jpegls")


def still_problem(info: MediaInfo) -> str | None:
    """'is a still image (...), not a video' for one picture in an image container or codec; else None."""
    image_container = info.container.endswith("_pipe") or info.container == "image2"
    if info.frame_count <= 1 and (image_container or info.video_codec in STILL_CODECS):
        return f"is a still image ({info.video_codec}), not a video"
    return None


def probe(path: str | Path) -> MediaInfo:
    """Metadata of a media file (frame count verified by decoding); MediaError when unreadable."""
    return cached_index(path)[1]


def _rate_fits(rate: Fraction | None, deltas: np.ndarray, time_base: Fraction) -> bool:
    if not rate or rate <= 0:
        return False
    expected = float(1 / (rate * time_base))
    return bool(np.all(np.abs(deltas - expected) <= 1.0 + 0.002 * expected))


def frame_rate(stream: av.video.stream.VideoStream, index: FrameIndex) -> tuple[Fraction, bool]:
    """(fps, variable): the exact nominal rate when timestamps are regular, else the mean rate."""
    candidates = [Fraction(r) for r in (stream.base_rate, stream.average_rate, stream.guessed_rate) if r]
    if index.mode == "count" or len(index) < 3:
        return (candidates[0] if candidates else Fraction(25)), False
    deltas = np.diff(index.pts).astype(np.float64)
    for rate in candidates:
        if _rate_fits(rate, deltas, index.time_base):
            return rate, False
    span = (int(index.pts[-1] - index.pts[0]) + index.last_duration) * index.time_base
    mean = Fraction(len(index)) / span if span > 0 else Fraction(25)
    average = Fraction(stream.average_rate) if stream.average_rate else None
    if average and abs(average - mean) <= mean / 200:  # the container's own figure for the mean
        return average, True
    return mean, True


def header_count(stream: av.video.stream.VideoStream) -> int | None:
    """The frame count the container claims: its frame count field, or mkvmerge's statistics tag."""
    if stream.frames:
        return int(stream.frames)
    for key, value in (stream.metadata or {}).items():
        if key.upper().startswith("NUMBER_OF_FRAMES"):
            try:
                return int(value)
            except ValueError:
                return None
    return None


def info_from(path: Path, container: av.container.InputContainer, index: FrameIndex) -> MediaInfo:
    stream = the_video_stream(container)
    fps, variable = frame_rate(stream, index)
    n = len(index)
    if index.mode == "pts" and n:
        duration = float((int(index.pts[-1] - index.pts[0]) + index.last_duration) * index.time_base)
    else:
        duration = float(n / fps)
    audio = container.streams.audio[0] if container.streams.audio else None
    names = container.format.name.split(",")
    suffix = path.suffix.lower().lstrip(".")
    return MediaInfo(
        path=path, fps=fps, frame_count=n, header_frame_count=header_count(stream),
        width=int(stream.codec_context.width), height=int(stream.codec_context.height),
        duration_s=duration, variable_frame_rate=variable, has_audio=audio is not None,
        audio_rate=int(audio.rate) if audio is not None else None,
        audio_channels=int(audio.codec_context.channels) if audio is not None else None,
        video_codec=stream.codec_context.name,
        container=suffix if suffix in names else names[0],
    )


_CACHE: OrderedDict[tuple[str, int, int], tuple[FrameIndex, MediaInfo]] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def cached_index(path: str | Path) -> tuple[FrameIndex, MediaInfo]:
    """(FrameIndex, MediaInfo) for ``path``, memoised per (path, size, mtime)."""
    p = Path(path)
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    except OSError:
        key = None
    if key is not None:
        with _CACHE_LOCK:
            if key in _CACHE:
                _CACHE.move_to_end(key)
                index, info = _CACHE[key]
                return index, (info if info.path == p else replace(info, path=p))
    index, container = build_index(p)
    try:
        info = info_from(p, container, index)
    finally:
        container.close()
    if key is not None:
        with _CACHE_LOCK:
            _CACHE[key] = (index, info)
            while len(_CACHE) > 64:
                _CACHE.popitem(last=False)
    return index, info
