"""Opening media with PyAV and decoding from a keyframe forward to an exact frame."""
from __future__ import annotations

from bisect import bisect_right
from pathlib import Path
from typing import Callable, Iterator

import av

from ..errors import MediaError
from ..safepaths import require_file
from .frameindex import FrameIndex


def open_container(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` for reading; every failure is a MediaError naming the file."""
    p = require_file(path, MediaError)  # never hand av.open a FIFO or a device: it would block
    try:
        container = av.open(str(p), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
        detail = getattr(e, "strerror", None) or str(e)
        raise MediaError(f"not a readable media file ({detail})", p) from e
    if video_stream(container) is None:
        container.close()
        raise MediaError("has no video stream", p)
    return container


def video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    """The first video stream that is a real video (not cover art)."""
    for stream in container.streams.video:
        try:
            if stream.disposition & av.stream.Disposition.attached_pic:
                continue
        except (AttributeError, TypeError):
            pass
        return stream
    return None


def the_video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The video stream of a container that open_container opened (so it has one)."""
    stream = video_stream(container)
    if stream is None:
        raise MediaError("has no video stream", Path(container.name))
    return stream


class Cursor:
    """One open container positioned somewhere in the video; decodes forward to the frame asked for.

    Not thread-safe: its owner serialises calls. ``next_index`` is the index the decoder yields next
    (None when unknown), so close-ahead requests continue decoding instead of seeking.
    """

    def __init__(self, path: str | Path, index: FrameIndex, threads: bool = True) -> None:
        self.path = Path(path)
        self.index = index
        self.threads = threads
        self._open()

    def _open(self) -> None:
        self.container = open_container(self.path)
        self.stream = the_video_stream(self.container)
        if self.threads:
            self.stream.thread_type = "AUTO"
        self._frames: Iterator[tuple[int, av.VideoFrame]] | None = None
        self.next_index: int | None = None
        self._skip_below: int | None = None  # pts below which non-reference frames are skipped

    def close(self) -> None:
        self._frames = None
        self.container.close()

    def key_before(self, i: int) -> int:
        """Position in index.key_idx of the last keyframe at or before frame i (-1: none)."""
        return bisect_right(self.index.key_idx, i) - 1

    def frame(self, i: int, on_pass: Callable[[int, av.VideoFrame], None] | None = None,
              keep_from: int | None = None) -> av.VideoFrame:
        """Decode exactly frame ``i``; ``on_pass`` sees the frames decoded on the way to it.

        Frames before ``keep_from`` (default ``i``) that no other frame references are not decoded.
        """
        if self.index.mode == "pts":
            self._skip_below = int(self.index.pts[max(0, i if keep_from is None else keep_from)])
        try:
            return self._frame(i, on_pass)
        finally:
            self._skip_below = None

    def _frame(self, i: int, on_pass: Callable[[int, av.VideoFrame], None] | None) -> av.VideoFrame:
        j = self.key_before(i)
        if (self._frames is not None and self.next_index is not None and self.next_index <= i
                and (j < 0 or self.index.key_idx[j] <= self.next_index)):
            found = self._advance(self._frames, i, on_pass)
            if found is not None:
                return found
        # Seek to the keyframe before i; when the demuxer lands late (TS, open GOPs), back off.
        for k in list(range(j, max(j - 3, -1), -1)) + [-1]:
            frames = self.decode_from(k)
            found = self._advance(frames, i, on_pass)
            if found is not None:
                return found
        self._frames, self.next_index = None, None
        raise MediaError(f"frame {i} does not decode", self.path)

    def _advance(self, frames: Iterator[tuple[int, av.VideoFrame]], i: int,
                 on_pass: Callable[[int, av.VideoFrame], None] | None) -> av.VideoFrame | None:
        for idx, frame in frames:
            if idx < i:
                if on_pass is not None:
                    on_pass(idx, frame)
                continue
            if idx == i:
                self._frames, self.next_index = frames, i + 1
                return frame
            break
        self._frames, self.next_index = None, None
        return None

    def iterate(self, start: int) -> Iterator[tuple[int, av.VideoFrame]]:
        """(index, frame) from ``start`` to the end, in presentation order."""
        if start > 0:
            yield start, self.frame(start)
            frames = self._frames
        else:
            frames = self.decode_from(-1)
        self._frames = None
        if frames is not None:
            yield from frames

    def decode_from(self, k: int) -> Iterator[tuple[int, av.VideoFrame]]:
        """Frames (index, frame) decoded from keyframe number k (-1: the very start of the file)."""
        index = self.index
        if k < 0:
            self.container.close()
            self._open()
        else:
            try:
                if index.key_byte is not None:
                    self.container.seek(index.key_byte[k], unsupported_byte_offset=True)
                else:
                    self.container.seek(int(index.key_seek[k]), stream=self.stream, backward=True)
            except av.error.FFmpegError:
                self.container.close()
                self._open()
            self.stream.codec_context.flush_buffers()
        return self._identified(self.decoded_frames())

    def decoded_frames(self) -> Iterator[tuple[av.Packet, av.VideoFrame]]:
        return decoded(self.container, self.stream, self)

    def _identified(self, decoded: Iterator[tuple[av.Packet, av.VideoFrame]]
                    ) -> Iterator[tuple[int, av.VideoFrame]]:
        index = self.index
        if index.mode == "pts":
            last = None
            for _, frame in decoded:
                idx = index.pts_pos.get(frame.pts) if frame.pts is not None else (
                    None if last is None else last + 1)
                if idx is None:
                    continue  # a frame the index does not hold (discarded by the container)
                last = idx
                yield idx, frame
            return
        # count mode: timestamps are unreliable; count outputs from the first decoded keyframe.
        idx = None
        for packet, frame in decoded:
            if idx is None:
                if not frame.key_frame:
                    continue
                idx = index.dts_pos.get(packet.dts, 0) if packet.dts is not None else 0
            else:
                idx += 1
            yield idx, frame


def decoded(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
            cursor: Cursor | None = None) -> Iterator[tuple[av.Packet, av.VideoFrame]]:
    """(first packet fed, frame) for each decoded frame, starting at the first keyframe packet.

    While ``cursor._skip_below`` is set, packets shown before it are decoded only if referenced.
    """
    first = None
    ctx = stream.codec_context
    skipping = False
    try:
        for packet in container.demux(stream):
            if first is None:
                if packet.size == 0 or not packet.is_keyframe:
                    continue
                first = packet
            if cursor is not None:
                below = cursor._skip_below
                skip = below is not None and packet.pts is not None and packet.pts < below
                if skip != skipping:
                    ctx.skip_frame = "NONREF" if skip else "DEFAULT"
                    skipping = skip
            try:
                frames = stream.decode(packet)
            except (av.error.InvalidDataError, av.error.UndefinedError):
                continue  # a damaged packet: the frames that do decode still count
            for frame in frames:
                yield first, frame
    except (av.error.InvalidDataError, av.error.EOFError, av.error.UndefinedError):
        pass  # truncated file: stop where the data stops
    if skipping:
        ctx.skip_frame = "DEFAULT"
    if first is not None:
        try:
            for frame in stream.decode(None):
                yield first, frame
        except av.error.FFmpegError:
            pass
