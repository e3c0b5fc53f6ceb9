"""FrameIndex: which frames a video holds, where its keyframes are, and how frames are identified."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np


@dataclass
class FrameIndex:
    """Frame i is shown at ``pts[i]`` (stream time base); in "count" mode pts are unreliable and
    frames are identified by counting decoder output from a keyframe."""

    mode: str  # "pts" or "count"
    pts: np.ndarray  # (n,) int64 presentation timestamps, ascending
    key_idx: list[int]  # frame index of each keyframe, ascending
    key_seek: list[int]  # timestamp to seek to for each keyframe
    time_base: Fraction
    last_duration: int  # ticks the last frame lasts
    pts_pos: dict[int, int] = field(default_factory=dict)
    dts_pos: dict[int, int] = field(default_factory=dict)
    # Byte offset of each keyframe's packet, for containers whose timestamp seek lands past the
    # keyframe (MPEG-TS/PS: a binary search over timestamps that knows nothing of keyframes).
    key_byte: list[int] | None = None

    def __len__(self) -> int:
        return int(self.pts.size)
