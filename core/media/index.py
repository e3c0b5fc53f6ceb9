"""Building a file's frame index (presentation timestamps, keyframes); core.media.info caches it.

The index comes from demuxing packets (fast: nothing is decoded), then is checked by decoding the
first and the last GOP. Only when that check fails (damaged or truncated files, timestamps that
the decoder does not reproduce) is the whole video decoded to learn which frames really exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import MediaError
from .container import Cursor, decoded, open_container, the_video_stream
from .frameindex import FrameIndex


@dataclass
class _Packets:
    pts: list
    dts: list
    key: list
    duration: list
    pos: list


def _demux(container: av.container.InputContainer) -> _Packets:
    stream = the_video_stream(container)
    out = _Packets([], [], [], [], [])
    try:
        for p in container.demux(stream):
            if p.size == 0 or p.is_discard:
                continue
            if not out.key and not p.is_keyframe:
                continue  # a capture starting mid-GOP: nothing decodes before the first keyframe
            out.pts.append(p.pts)
            out.dts.append(p.dts)
            out.key.append(bool(p.is_keyframe))
            out.duration.append(int(p.duration or 0))
            out.pos.append(-1 if p.pos is None else int(p.pos))
    except (av.error.InvalidDataError, av.error.EOFError, av.error.UndefinedError):
        pass  # truncated: the index holds what is there
    return out


def _from_packets(pk: _Packets, time_base: Fraction, force_count: bool = False) -> FrameIndex:
    n = len(pk.pts)
    usable = (not force_count and n > 0 and None not in pk.pts and len(set(pk.pts)) == n)
    if usable:
        pts = np.array(sorted(pk.pts), dtype=np.int64)
        pos = {int(t): i for i, t in enumerate(pts)}
        # Seek by the keyframe's own pts: demuxers that index by dts then still land on it (dts <= pts).
        keys = sorted((pos[t], t) for t, k in zip(pk.pts, pk.key) if k)
        durations = dict(zip(pk.pts, pk.duration))
        last = durations.get(int(pts[-1]), 0) or _median_delta(pts)
        return FrameIndex("pts", pts, [k for k, _ in keys], [s for _, s in keys], time_base, last, pos)
    # Count mode (e.g. AVI with B-frames): decode order position of a keyframe is its frame index.
    order = sorted(range(n), key=lambda i: (pk.dts[i] if pk.dts[i] is not None else i))
    dts_pos = {pk.dts[i]: j for j, i in enumerate(order)}
    keys = [(j, pk.dts[i] if pk.dts[i] is not None else 0) for j, i in enumerate(order) if pk.key[i]]
    return FrameIndex("count", np.arange(n, dtype=np.int64), [k for k, _ in keys],
                      [s for _, s in keys], time_base, 1, {}, dts_pos)


def _median_delta(pts: np.ndarray) -> int:
    return int(np.median(np.diff(pts))) if pts.size > 1 else 1


def _check(path: Path, index: FrameIndex, head: int = 16) -> tuple[bool, bool]:
    """(consistent, timestamps_ok): decode the start and the last GOP and compare with the index."""
    n = len(index)
    if n == 0 or not index.key_idx:
        return False, True
    cursor = Cursor(path, index)
    try:
        if index.mode == "pts":
            got: list[int] = []
            for _, frame in cursor.decoded_frames():  # from the first keyframe, raw decoder output
                if frame.pts is None:
                    return False, False
                got.append(frame.pts)
                if len(got) >= min(head, n):
                    break
            if any(b <= a for a, b in zip(got, got[1:])):
                return False, False
            if got != [int(t) for t in index.pts[:len(got)]]:
                return False, True
        last_key = index.key_idx[-1]
        seen = [idx for idx, _ in cursor.decode_from(len(index.key_idx) - 1)]
        return seen == list(range(last_key, n)), True
    finally:
        cursor.close()


def _from_full_decode(path: Path, pk: _Packets, time_base: Fraction) -> FrameIndex:
    """Decode every frame once: the index is what the decoder really outputs."""
    container = open_container(path)
    stream = the_video_stream(container)
    stream.thread_type = "AUTO"
    out_pts, out_key = [], []
    try:
        for _, frame in decoded(container, stream):
            out_pts.append(frame.pts)
            out_key.append(bool(frame.key_frame))
    finally:
        container.close()
    if not out_pts:
        raise MediaError("no video frame decodes", path)
    n = len(out_pts)
    known = [t for t in out_pts if t is not None]
    if len(known) == n and all(b > a for a, b in zip(known, known[1:])):
        pts = np.array(known, dtype=np.int64)
        key_idx = [i for i in range(n) if out_key[i]] or [0]
        durations = dict(zip(pk.pts, pk.duration))
        last = durations.get(int(pts[-1]), 0) or _median_delta(pts)
        return FrameIndex("pts", pts, key_idx, [int(pts[i]) for i in key_idx],
                          time_base, last, {int(t): i for i, t in enumerate(pts)})
    index = _from_packets(pk, time_base, force_count=True)
    index.pts = np.arange(n, dtype=np.int64)
    key_idx = [i for i in range(n) if out_key[i]]
    m = min(len(key_idx), len(index.key_seek))
    index.key_idx, index.key_seek = key_idx[:m] or [0], index.key_seek[:m] or [0]
    index.dts_pos = {s: k for s, k in zip(index.key_seek, index.key_idx)}
    return index


def build_index(path: str | Path) -> tuple[FrameIndex, av.container.InputContainer]:
    """Index the video stream of ``path``; returns it with the (still open) container used."""
    path = Path(path)
    container = open_container(path)
    stream = the_video_stream(container)
    time_base = stream.time_base or Fraction(1, 1000)
    pk = _demux(container)
    index = _from_packets(pk, time_base) if pk.pts else None
    if index is not None:
        index = _with_byte_seek(index, pk, container.format.name)
    consistent, ts_ok = (False, True) if index is None else _check(path, index)
    if index is not None and not consistent and not ts_ok and index.mode == "pts":
        index = _from_packets(pk, time_base, force_count=True)
        consistent, _ = _check(path, index)
    if index is None or not consistent:
        index = _with_byte_seek(_from_full_decode(path, pk, time_base), pk, container.format.name)
    return index, container


def _with_byte_seek(index: FrameIndex, pk: _Packets, format_name: str) -> FrameIndex:
    """Seek MPEG transport/program streams by the byte offset of the keyframe (pts mode only)."""
    if index.mode != "pts" or not ({"mpegts", "mpeg", "mpegvideo"} & set(format_name.split(","))):
        return index
    where = {t: pos for t, pos, k in zip(pk.pts, pk.pos, pk.key) if k and pos >= 0}
    if all(t in where for t in index.key_seek):
        index.key_byte = [where[t] for t in index.key_seek]
    return index
