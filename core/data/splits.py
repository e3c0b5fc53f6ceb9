"""Train/validation/test splits by video, keeping every subject (and every source video) on one side; and
time-block hold-out within videos, for projects with too few videos to hold any out."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

import numpy as np

if TYPE_CHECKING:
    from ..project import Project

SPLITS = ("train", "val", "test")
BLOCK_S = 10.0  # length of one held-out time block
GUARD_S = 2.0  # frames this close to a block edge train nor validate: neighbours look alike and annotators lag
_SPLIT_ALIASES = {"training": "train", "train_set": "train", "validation": "val", "valid": "val",
                  "validation_set": "val", "test_set": "test"}
_SIDE = re.compile(r"_(left|right|main)$")


def normalise_split(name: str) -> str:
    """'Train_Set', 'validation', 'val' ... -> 'train' / 'val' / 'test' (other names are kept, lower-cased)."""
    key = name.strip().lower()
    return _SPLIT_ALIASES.get(key, key)


def source_video(video: str) -> str:
    """Aff-Wild2 ``<name>_left``/``_right``/``_main`` share one source video (and its people)."""
    return _SIDE.sub("", video)


def group_of(video: str, subject: str | None) -> str:
    """What must not be split across train/val/test: the subject where known, else the source video."""
    return f"subject:{subject}" if subject else f"video:{source_video(video)}"


def videos_in_split(project: Project, split: str | Iterable[str] | None) -> list[str]:
    """Videos of a project in a split ('train', 'val', 'test'; None = all; a list of names = those)."""
    if split is None:
        return list(project.videos)
    if not isinstance(split, str):
        names = list(split)
        unknown = [v for v in names if v not in project.videos]
        if unknown:
            raise KeyError(f"videos not in the project: {', '.join(unknown)}")
        return names
    want = normalise_split(split)
    return [v for v, e in project.videos.items() if normalise_split(e.split or "train") == want]


def assign_splits(videos: dict[str, str | None], val: float = 0.2, test: float = 0.0,
                  seed: int = 0) -> dict[str, str]:
    """Assign {video: subject-or-None} to splits at random by group (subject, else source video), so no
    person appears on two sides; the shares are met as closely as whole groups allow."""
    if not 0 <= val < 1 or not 0 <= test < 1 or val + test >= 1:
        raise ValueError("val and test must be fractions with val + test < 1")
    groups: dict[str, list[str]] = {}
    for v, subject in videos.items():
        groups.setdefault(group_of(v, subject), []).append(v)
    keys = sorted(groups)
    order = np.random.default_rng(seed).permutation(len(keys))
    n = len(videos)
    out: dict[str, str] = {}
    counts = {"test": 0, "val": 0}
    for k in order:
        members = groups[keys[k]]
        if counts["test"] + len(members) <= round(test * n) and test > 0:
            side = "test"
        elif counts["val"] + len(members) <= round(val * n) and val > 0:
            side = "val"
        else:
            side = "train"
        counts[side] = counts.get(side, 0) + len(members)
        for v in members:
            out[v] = side
    if val > 0 and counts["val"] == 0 and len(keys) > 1:  # small projects: at least one group validates
        first = next(keys[k] for k in order if out[groups[keys[k]][0]] == "train")
        for v in groups[first]:
            out[v] = "val"
    return out


def time_blocks(n_frames: int, fps: float, share: float, seed: int = 0, block_s: float = BLOCK_S,
                guard_s: float = GUARD_S) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) frame masks of one video holding out ``share`` of it in time blocks.

    Blocks of ``block_s`` seconds (shorter in short videos, so there are at least 1 / share of them) are
    spread evenly over the video from a seeded offset, so validation sees its beginning, middle and end.
    Frames within ``guard_s`` of a held-out block belong to neither side: consecutive frames are nearly
    the same image and traced labels lag by seconds, so training next to a block would leak into it."""
    if not 0 < share < 1:
        raise ValueError(f"the held-out share must be between 0 and 1, got {share}")
    n = int(n_frames)
    train, val = np.zeros(n, bool), np.zeros(n, bool)
    if n < 2:
        train[:] = True
        return train, val
    block = max(1, min(int(round(block_s * fps)), n // max(2, int(round(1 / share)))))
    guard = min(int(round(guard_s * fps)), block // 4)
    n_blocks = -(-n // block)
    k = min(n_blocks - 1, max(1, int(round(share * n_blocks))))
    offset = np.random.default_rng(seed).random()
    chosen = sorted({int((i + offset) * n_blocks / k) % n_blocks for i in range(k)})
    near = np.zeros(n, bool)
    for b in chosen:
        start, stop = b * block, min(n, (b + 1) * block)
        val[start:stop] = True
        near[max(0, start - guard):min(n, stop + guard)] = True
    train[:] = ~near
    return train, val
