"""Small generated Aff-Wild2 trees of both layouts for interchange tests (real media, real files)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.labels import EXPRESSIONS
from core.media import write_video

AU8 = ("AU1", "AU2", "AU4", "AU6", "AU12", "AU15", "AU20", "AU25")
AU12 = ("AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15", "AU23", "AU24", "AU25", "AU26")
TASK_DIRS = {"2020": ("VA_Set", "EXPR_Set", "AU_Set"),
             "2022": ("VA_Estimation_Challenge", "EXPR_Recognition_Challenge", "AU_Detection_Challenge")}
SPLITS = {"2020": ("Training_Set", "Validation_Set"), "2022": ("Train_Set", "Validation_Set")}
N_FRAMES = 30  # frames of each generated media file


def _va_lines(rng: np.random.Generator, n: int, style: str) -> list[str]:
    out = []
    for i in range(n):
        if 5 <= i < 9:
            out.append("-5.0,-5.0" if style == "fixed" else "-5,-5")
            continue
        v, a = rng.uniform(-1, 1, 2)
        out.append(f"{v:.3f},{a:.3f}" if style == "fixed" else f"{round(v, 2)},{round(a, 4)}")
    return out


def make_dataset(root: Path, layout: str, media: bool = True, seed: int = 0) -> dict[str, Path]:
    """Write a tree under ``root``; returns {relative path: path} of every label file written.

    Videos: 'vid1' (media, 2 crops missing, VA file 2 lines longer than the media), 'vid2_left' and
    'vid2_right' (one media 'vid2.mp4'), 'vid3' (no media, no crops, CRLF VA file with a blank tail).
    """
    rng = np.random.default_rng(seed)
    va_dir, ex_dir, au_dir = TASK_DIRS[layout]
    base = root / "annotations" if layout == "2020" else root
    train, val = SPLITS[layout]
    aus = AU8 if layout == "2020" else AU12
    classes = EXPRESSIONS[:7] if layout == "2020" else EXPRESSIONS
    files: dict[str, str] = {}
    lines = {"vid1": N_FRAMES + 2, "vid2_left": N_FRAMES, "vid2_right": N_FRAMES - 3, "vid3": 25}
    for video, n in lines.items():
        split = val if video == "vid2_right" else train
        va = _va_lines(rng, n, "fixed" if video != "vid2_left" else "short")
        nl = "\r\n" if video == "vid3" else "\n"
        tail = nl + (nl if video == "vid3" else "")
        files[f"{va_dir}/{split}/{video}.txt"] = nl.join(["valence,arousal"] + va) + tail
        ex = [str(int(c)) for c in rng.integers(-1, len(classes), n)]
        files[f"{ex_dir}/{train}/{video}.txt"] = "\n".join([",".join(classes)] + ex) + "\n"
        if video != "vid3":
            rows = []
            for i in range(n):
                row = ["-1"] * len(aus) if i % 7 == 3 else list(map(str, rng.integers(0, 2, len(aus))))
                rows.append(",".join(row))
            tail = "\n" if video != "vid1" else ""
            files[f"{au_dir}/{split}/{video}.txt"] = "\n".join([",".join(aus)] + rows) + tail
    out = {}
    for rel, text in files.items():
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("utf-8"))
        out[rel] = p
    if media:
        vids = root / "videos"
        vids.mkdir(exist_ok=True)
        frames = [np.full((32, 48, 3), i * 8 % 255, np.uint8) for i in range(N_FRAMES)]
        for stem in ("vid1", "vid2"):
            write_video(vids / f"{stem}.mp4", frames, 25)
    for video in ("vid1", "vid2_left", "vid2_right"):
        d = root / "cropped_aligned" / video
        d.mkdir(parents=True, exist_ok=True)
        for i in range(N_FRAMES):
            if video == "vid1" and i in (3, 4):
                continue
            (d / f"{i + 1:05d}.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    return out
