"""Writing videos (with an optional audio track) through PyAV: used by tests, benches and the demo."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

import av
import numpy as np

from ..errors import MediaError

# Friendly codec names -> PyAV encoder names.
_ENCODERS = {"h264": "libx264", "hevc": "libx265", "h265": "libx265", "vp9": "libvpx-vp9",
             "mpeg4": "mpeg4", "ffv1": "ffv1"}
# Audio codec per container (what the container holds without complaint).
_AUDIO_CODEC = {".avi": "pcm_s16le", ".wav": "pcm_s16le", ".mkv": "aac", ".webm": "libopus"}


def as_fraction(fps: Fraction | str | int | float) -> Fraction:
    """"30000/1001", "29.97", 25, Fraction(...) -> Fraction (floats are limited to denominator 1001)."""
    if isinstance(fps, Fraction):
        return fps
    if isinstance(fps, str) and "/" in fps:
        num, den = fps.split("/")
        return Fraction(int(num), int(den))
    return Fraction(fps).limit_denominator(1001)


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: Fraction | str | int,
                codec: str = "h264", audio: np.ndarray | None = None, audio_rate: int = 16000,
                **opts: Any) -> Path:
    """Encode RGB uint8 frames (H, W, 3) to ``path``; the container follows the extension.

    ``opts``: ``crf`` (quality, default 18), ``gop`` (keyframe interval), ``bframes`` (max B-frames),
    ``pix_fmt`` (default yuv420p), ``audio_codec``, ``options`` (dict of raw encoder options),
    ``container_options`` (dict of muxer options, e.g. {"movflags": "faststart"}),
    ``times_s`` (presentation time of each frame in seconds, for variable-frame-rate files; kept to
    the millisecond; ``fps`` then only names the nominal rate).
    ``audio``: float32 in [-1, 1], (samples,) mono or (samples, channels).
    """
    path = Path(path)
    rate = as_fraction(fps)
    times = opts.get("times_s")
    time_base = Fraction(1, 1000) if times is not None else 1 / rate
    encoder = _ENCODERS.get(codec, codec)
    options = _encoder_options(encoder, opts)
    try:
        container = av.open(str(path), mode="w", options=dict(opts.get("container_options") or {}))
    except (OSError, av.error.FFmpegError) as e:
        raise MediaError(f"cannot create video ({e})", path) from e
    try:
        stream: av.video.stream.VideoStream | None = None
        astream: av.audio.stream.AudioStream | None = None
        if audio is not None:
            acodec = opts.get("audio_codec") or _AUDIO_CODEC.get(path.suffix.lower(), "aac")
            audio = np.asarray(audio, dtype=np.float32)
            channels = 1 if audio.ndim == 1 else audio.shape[1]
            added = container.add_stream(acodec, rate=int(audio_rate), layout="mono" if channels == 1 else "stereo")
            if not isinstance(added, av.audio.stream.AudioStream):
                raise MediaError(f"{acodec} is not an audio encoder", path)
            astream = added
        count = 0
        for rgb in frames:
            rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
            if stream is None:
                stream = _video_stream(container, path, encoder, rate, options, opts, rgb.shape, time_base)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = count if times is None else int(round(times[count] * 1000))
            frame.time_base = time_base
            container.mux(stream.encode(frame))
            count += 1
        if stream is None:
            raise MediaError("no frames to write", path)
        container.mux(stream.encode(None))
        if astream is not None and audio is not None:
            _write_audio(container, astream, audio)
    except av.error.FFmpegError as e:
        raise MediaError(f"cannot encode video ({e})", path) from e
    finally:
        container.close()
    return path


def _encoder_options(encoder: str, opts: dict[str, Any]) -> dict[str, str]:
    """The encoder's options: ``opts["options"]`` and, where not given, quality and speed defaults."""
    options: dict[str, str] = {str(k): str(v) for k, v in (opts.get("options") or {}).items()}
    crf = opts.get("crf", 18)
    if encoder in ("libx264", "libx265", "libvpx-vp9"):
        options.setdefault("crf", str(crf))
    if encoder == "libvpx-vp9":
        options.setdefault("b", "0")
        options.setdefault("deadline", "realtime")
        options.setdefault("cpu-used", "8")
        options.setdefault("row-mt", "1")
    if encoder == "libx264":
        options.setdefault("preset", opts.get("preset", "veryfast"))
    if encoder == "libx265":
        options.setdefault("preset", opts.get("preset", "ultrafast"))
        options.setdefault("x265-params", "log-level=error")
    return options


def _video_stream(container: av.container.OutputContainer, path: Path, encoder: str, rate: Fraction,
                  options: dict[str, str], opts: dict[str, Any], shape: tuple[int, ...],
                  time_base: Fraction) -> av.video.stream.VideoStream:
    """The video stream, sized by the first frame's ``shape``."""
    stream = container.add_stream(encoder, rate=rate, options=options)
    if not isinstance(stream, av.video.stream.VideoStream):
        raise MediaError(f"{encoder} is not a video encoder", path)
    stream.width, stream.height = shape[1], shape[0]
    stream.pix_fmt = opts.get("pix_fmt", "yuv420p")
    if encoder == "mpeg4":
        stream.codec_context.qscale = True  # constant quantiser: quality, not bitrate
        stream.codec_context.global_quality = int(opts.get("qscale", 3)) * 118  # FF_QP2LAMBDA
    if "gop" in opts:
        stream.codec_context.gop_size = int(opts["gop"])
    if "bframes" in opts:
        stream.codec_context.max_b_frames = int(opts["bframes"])
    stream.codec_context.time_base = time_base
    return stream


def _write_audio(container: av.container.OutputContainer, astream: av.audio.stream.AudioStream,
                 audio: np.ndarray) -> None:
    planar = audio.T if audio.ndim == 2 else audio[None, :]
    layout = "mono" if planar.shape[0] == 1 else "stereo"
    chunk = 4096
    for s in range(0, planar.shape[1], chunk):
        block = np.ascontiguousarray(planar[:, s:s + chunk])
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
        frame.sample_rate = astream.rate
        frame.pts = s
        frame.time_base = Fraction(1, astream.rate)
        container.mux(astream.encode(frame))
    container.mux(astream.encode(None))
