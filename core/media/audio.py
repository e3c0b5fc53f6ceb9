"""Audio decoded to float32 numpy at a chosen rate, placed on the video's time axis."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from ..errors import MediaError
from .container import open_container


def decode_audio(path: str | Path, rate: int, mono: bool, start_s: float, total: int) -> np.ndarray:
    """``total`` samples at ``rate`` Hz; sample 0 is at ``start_s`` on the stream clock.

    Audio that starts later than ``start_s`` is preceded by zeros; audio beyond the span is cut.
    Returns (total,) when ``mono`` else (total, channels).
    """
    if rate <= 0:
        raise MediaError(f"audio rate must be positive, not {rate}", path)
    container = open_container(path)
    try:
        if not container.streams.audio:
            raise MediaError("has no audio track", path)
        stream = container.streams.audio[0]
        channels = 1 if mono else max(1, int(stream.codec_context.channels))
        layout = "mono" if channels == 1 else (stream.codec_context.layout.name if channels > 2 else "stereo")
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        chunks: list[np.ndarray] = []
        first_time: float | None = None
        try:
            for frame in container.decode(stream):
                if first_time is None and frame.pts is not None and frame.time_base is not None:
                    first_time = float(frame.pts * frame.time_base)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
        except (av.error.InvalidDataError, av.error.EOFError, av.error.UndefinedError):
            pass  # truncated audio: keep what decoded
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as e:
        raise MediaError(f"audio does not decode ({e})", path) from e
    finally:
        container.close()
    data = np.concatenate(chunks).reshape(-1, channels) if chunks else np.zeros((0, channels), np.float32)
    result = np.zeros((max(0, total), channels), dtype=np.float32)
    offset = int(round(((first_time if first_time is not None else start_s) - start_s) * rate))
    src0 = max(0, -offset)
    dst0 = max(0, offset)
    n = max(0, min(data.shape[0] - src0, result.shape[0] - dst0))
    result[dst0:dst0 + n] = data[src0:src0 + n]
    return result[:, 0] if mono else result
