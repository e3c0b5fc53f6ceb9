"""The bad-input corpus: every kind of broken or hostile input a user can hand AffectTrace, generated.

Media (zero bytes, text named .mp4, a JPEG renamed .mp4, cut to 30 %, middle 20 % randomised, a FIFO),
Aff-Wild2 trees, CSV tables, checkpoints (one a malicious pickle), damaged project folders and hostile
names. Each maker writes into a folder it is given and returns the path to hand to a command.
"""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Callable

import numpy as np

from core.edits import record, set_range
from core.project import Project
from core.tracks import TrackSource
from tests.affwild2gen import make_dataset
from tests.videogen import make_video

N_FRAMES = 60  # frames of the generated clip
LABELLED = 50  # frames 0..49 of annotator ann1 carry VA, expression and AU labels
ANNOTATOR = "ann1"
HOSTILE_NAMES = ("../../../../../../../../tmp/affecttrace-escape", "/tmp/affecttrace-abs", "a/b", "..", ".",
                 "", "nul\0byte", "line\nbreak", "x" * 300)


# ------------------------------------------------------------------ projects

def good_clip(folder: Path, name: str = "clip.mp4", n: int = N_FRAMES, faststart: bool = True) -> Path:
    """A real H.264 clip whose index (moov) comes first, so a cut-off copy still opens."""
    folder.mkdir(parents=True, exist_ok=True)
    opts = {"container_options": {"movflags": "faststart"}} if faststart else {}
    return make_video(folder / name, n=n, fps=25, gop=10, **opts)


def labelled_project(folder: Path, media: Path, au_set: str = "affwild2-8") -> Path:
    """A saved project with video 'clip' and annotator ann1's labels on frames 0..LABELLED-1."""
    p = Project.create(folder, au_set=au_set)
    try:
        p.add_video(media, name="clip")
        p.new_track("clip", ANNOTATOR, TrackSource.human(ANNOTATOR))
        rng = np.random.default_rng(7)
        p.apply(record("clip", ANNOTATOR, "va", 0, rng.uniform(-1, 1, (LABELLED, 2)).astype(np.float32)))
        p.apply(set_range("clip", ANNOTATOR, "expr", 0, LABELLED, 4))
        p.apply(set_range("clip", ANNOTATOR, "au", 0, LABELLED, 1))
        p.save()
    finally:
        p.close()
    return folder


def labels_of(folder: Path) -> dict[str, np.ndarray]:
    """Every track's arrays (journal included), read-only: what must never change under bad input."""
    p = Project.open(folder, readonly=True)
    try:
        out = {}
        for v in p.videos:
            for n in p.track_names(v):
                t = p.track(v, n)
                for k in ("va", "expr", "au"):
                    out[f"{v}/{n}/{k}"] = t.array(k).copy()
        return out
    finally:
        p.close()


def same_labels(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> bool:
    """True when every labelled value of ``before`` is still there (new tracks may be added)."""
    for key, a in before.items():
        b = after.get(key)
        if b is None or b.shape != a.shape or not np.array_equal(a, b, equal_nan=True):
            return False
    return True


# ------------------------------------------------------------------ running commands, filling disks

def one_line(err: str, limit: int = 2000) -> str:
    """The single line of an error on stderr (fails on a traceback, more lines, or a line over ``limit``)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err[:2000]
    assert len(lines[0]) < limit, f"{len(lines[0])} characters: {lines[0][:300]}"
    return lines[0]


def fill_disk(mount: Path, leave: int = 0) -> Path:
    """Fill the file system of ``mount`` with one file, then give ``leave`` bytes back; returns the file."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for block in (65536, 512):
            try:
                while os.write(fd, b"\0" * block):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


# ------------------------------------------------------------------ media

def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _randomised_middle(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    a, b = int(len(data) * 0.4), int(len(data) * 0.6)
    data[a:b] = np.random.default_rng(0).integers(0, 256, b - a, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))
    return dst


def _jpeg(dst: Path) -> Path:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))
    assert ok
    dst.write_bytes(buf.tobytes())
    return dst


def bad_media(folder: Path, good: Path) -> dict[str, Path]:
    """name -> a broken media file named like a video (from the good clip ``good``)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = good.read_bytes()
    out = {
        "zero-bytes": folder / "zero.mp4",
        "text": folder / "text.mp4",
        "truncated-30pc": folder / "cut.mp4",
    }
    out["zero-bytes"].write_bytes(b"")
    out["text"].write_text("this is not a video\n")
    out["truncated-30pc"].write_bytes(data[:int(len(data) * 0.3)])
    out["jpeg-as-mp4"] = _jpeg(folder / "photo.mp4")
    out["middle-randomised"] = _randomised_middle(good, folder / "noisy.mp4")
    out["fifo"] = _fifo(folder / "pipe.mp4")
    out["folder"] = folder / "dir.mp4"
    out["folder"].mkdir()
    out["missing"] = folder / "absent.mp4"
    return out


MEDIA_UNUSABLE = ("zero-bytes", "text", "jpeg-as-mp4", "fifo", "folder", "missing")  # refused outright
MEDIA_DAMAGED = ("truncated-30pc", "middle-randomised")  # usable in part, reported


# ------------------------------------------------------------------ label files

def bad_csvs(folder: Path) -> dict[str, Path]:
    """name -> a broken or hostile CSV table for import-csv (video 'clip' of the labelled project)."""
    folder.mkdir(parents=True, exist_ok=True)
    head = "video,frame,track,valence,arousal,expression\n"
    tables = {
        "empty": "",
        "header-only": head,
        "binary": None,
        "no-frame-column": "video,track,valence\nclip,ann1,0.1\n",
        "bad-number": head + "clip,0,ann1,abc,0.1,\n",
        "out-of-range": head + "clip,0,ann1,7,0.1,\n",
        "past-the-end": head + f"clip,{N_FRAMES + 5},ann1,0.1,0.1,\n",
        "negative-frame": head + "clip,-3,ann1,0.1,0.1,\n",
        "unknown-video": head + "nosuch,0,ann1,0.1,0.1,\n",
        "hostile-track": head + "clip,0,../../../../tmp/x,0.1,0.1,\n",
        "hostile-video": head + "../../../../tmp/x,0,ann1,0.1,0.1,\n",
        "huge-header": "video,frame,track," + "A" * 10_000_000 + "\nclip,0,ann1,x\n",
        "duplicate-rows": head + "clip,0,ann1,0.1,0.1,\nclip,0,ann1,0.2,0.2,\n",
        "empty-cells": head + "".join(f"clip,{i},{ANNOTATOR},,,\n" for i in range(LABELLED)),
        "half-va": head + "clip,0,ann1,0.1,,\n",
        "bad-expression": head + "clip,0,ann1,,,Joy\n",
    }
    out = {}
    for name, text in tables.items():
        p = folder / f"{name}.csv"
        if text is None:
            p.write_bytes(bytes(range(256)) * 40)
        else:
            p.write_text(text)
        out[name] = p
    out["fifo"] = _fifo(folder / "pipe.csv")
    out["folder"] = folder / "dir.csv"
    out["folder"].mkdir()
    return out


def bad_affwild2_trees(folder: Path) -> dict[str, Path]:
    """name -> an Aff-Wild2 tree with one kind of damage (the rest of the tree is valid)."""
    out = {}

    def tree(name: str, damage: Callable[[dict[str, Path]], None]) -> None:
        root = folder / name
        files = make_dataset(root, "2022", media=False)
        damage(files)
        out[name] = root

    def first(files: dict[str, Path], task: str) -> Path:
        return next(p for rel, p in files.items() if rel.startswith(task))

    tree("binary-va", lambda f: first(f, "VA").write_bytes(bytes(range(256)) * 8))
    tree("empty-va", lambda f: first(f, "VA").write_bytes(b""))
    tree("huge-header", lambda f: first(f, "VA").write_text("valence," + "x" * 10_000_000 + "\n0.1,0.1\n"))
    tree("bad-value", lambda f: first(f, "EXPR").write_text("Neutral,Anger\n9\n"))
    tree("fifo-label", lambda f: (first(f, "AU").unlink(), os.mkfifo(first(f, "AU"))))
    empty = folder / "no-labels"
    empty.mkdir(parents=True)
    out["no-labels"] = empty
    out["missing"] = folder / "absent-tree"
    return out


# ------------------------------------------------------------------ checkpoints

class _Evil:
    """Unpickling this runs code: a checkpoint must never be loaded with full pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: D105
        return (os.system, (f"touch {self.marker}",))


def bad_checkpoints(folder: Path) -> tuple[dict[str, Path], Path]:
    """(name -> broken checkpoint, marker file the malicious one would create if ever unpickled)."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "PWNED"
    out = {"zero-bytes": folder / "zero.pt", "text": folder / "text.pt", "malicious-pickle": folder / "evil.pt",
           "malicious-raw-pickle": folder / "evil.pkl", "plain-dict": folder / "dict.pt",
           "truncated": folder / "cut.pt"}
    out["zero-bytes"].write_bytes(b"")
    out["text"].write_text("not a checkpoint\n")
    import torch

    torch.save({"format": "affecttrace-checkpoint", "model": _Evil(marker)}, out["malicious-pickle"])
    with open(out["malicious-raw-pickle"], "wb") as f:
        pickle.dump({"format": "affecttrace-checkpoint", "model": _Evil(marker)}, f)
    torch.save({"weights": torch.zeros(3)}, out["plain-dict"])
    out["no-labels"] = folder / "nolabels.pt"  # our format, a field missing: KeyError before issue 19
    torch.save({"format": "affecttrace-checkpoint", "version": 1, "preset": "mt-tiny", "config": {},
                "epoch": 1, "step": 1, "model": {}}, out["no-labels"])
    out["wrong-types"] = folder / "types.pt"
    torch.save({"format": "affecttrace-checkpoint", "version": 1, "preset": 5, "config": [], "labels": "x",
                "epoch": "one", "step": 1, "model": {"w": 3}}, out["wrong-types"])
    torch.save({"format": "affecttrace-checkpoint", "model": {"w": torch.zeros(1000)}}, folder / "full.pt")
    out["truncated"].write_bytes((folder / "full.pt").read_bytes()[:300])
    out["fifo"] = _fifo(folder / "pipe.pt")
    out["missing"] = folder / "absent.pt"
    return out, marker


# ------------------------------------------------------------------ settings files

def bad_settings(folder: Path) -> dict[str, tuple[str, Path]]:
    """name -> (option, a broken file for it): training configs (--config) and landmarks (--landmarks)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, tuple[str, Path]] = {}
    for name, text in (("config-binary", bytes(range(256))), ("config-not-toml", b"epochs = = 3\n"),
                       ("config-unknown-key", b"no_such_setting = 1\n"), ("config-wrong-type", b'epochs = "many"\n')):
        (folder / f"{name}.toml").write_bytes(text)
        out[name] = ("--config", folder / f"{name}.toml")
    out["config-fifo"] = ("--config", _fifo(folder / "pipe.toml"))
    (folder / "garbage.npy").write_bytes(b"\x93NUMPY garbage")
    out["landmarks-garbage"] = ("--landmarks", folder / "garbage.npy")
    np.save(folder / "shape.npy", np.zeros((5, 3), np.float32))
    out["landmarks-wrong-shape"] = ("--landmarks", folder / "shape.npy")
    (folder / "garbage.h5").write_bytes(b"not hdf5" * 20)
    out["landmarks-not-hdf5"] = ("--landmarks", folder / "garbage.h5")
    out["landmarks-fifo"] = ("--landmarks", _fifo(folder / "pipe.npy"))
    return out


# ------------------------------------------------------------------ damaged project folders

def _edit_manifest(folder: Path, change: Callable[[dict], None]) -> None:
    path = folder / "project.json"
    d = json.loads(path.read_text())
    change(d)
    path.write_text(json.dumps(d))


def damaged_projects(folder: Path, make: Callable[[Path], Path]) -> dict[str, Path]:
    """name -> a labelled project (made by ``make(path)``) with one kind of damage."""
    out: dict[str, Path] = {}

    def damage(name: str, how: Callable[[Path], object]) -> None:
        p = make(folder / name)
        how(p)
        out[name] = p

    def video(d: dict) -> dict:
        return d["videos"]["clip"]

    damage("manifest-not-json", lambda p: (p / "project.json").write_text("{not json"))
    damage("manifest-binary", lambda p: (p / "project.json").write_bytes(bytes(range(256))))
    damage("manifest-fifo", lambda p: ((p / "project.json").unlink(), os.mkfifo(p / "project.json")))
    damage("frame-count-1e12", lambda p: _edit_manifest(p, lambda d: video(d).update(frame_count=10**12)))
    damage("frame-count-negative", lambda p: _edit_manifest(p, lambda d: video(d).update(frame_count=-5)))
    damage("fps-zero", lambda p: _edit_manifest(p, lambda d: video(d).update(fps="0/1")))
    damage("video-name-escapes", lambda p: _edit_manifest(
        p, lambda d: d["videos"].__setitem__("../../../../../../tmp/affecttrace-escape", d["videos"].pop("clip"))))
    damage("split-escapes", lambda p: _edit_manifest(p, lambda d: video(d).update(split="../../../../../tmp/esc")))
    damage("index-garbage", lambda p: [(p / n).write_bytes(b"garbage" * 50)
                                       for n in ("annotations.h5", "annotations.prev.h5")])
    damage("track-file-missing", lambda p: [f.unlink() for f in (p / "tracks").glob("*.h5")])
    damage("track-file-truncated", lambda p: [f.write_bytes(f.read_bytes()[:200]) for f in (p / "tracks").glob("*.h5")])
    damage("journal-garbage", lambda p: (p / "journal" / "99999999.jsonl").write_bytes(bytes(range(256)) * 4))
    not_project = folder / "not-a-project"
    not_project.mkdir(parents=True)
    out["not-a-project"] = not_project
    out["missing"] = folder / "absent-project"
    return out


# ------------------------------------------------------------------ hostile paths (issue 19)

NON_UTF8 = os.fsdecode(b"caf\xe9")  # a file-name part that is not UTF-8 (Latin-1 'cafe' with an accent)
OUTPUT_KINDS = ("link-out", "dangling-link-out", "fifo-out", "folder-out", "itself", "other-kind", "non-utf8-out")
REFUSED_OUTPUTS = ("link-out", "dangling-link-out", "fifo-out", "folder-out", "itself", "other-kind")


def hostile_output(kind: str, d: Path, suffix: str, outside: Path, given_input: Path, other: Path) -> Path:
    """An output path of ``kind`` in the trial folder ``d``: a link to the file ``outside`` (which must never
    change), a dangling link into ``outside``'s folder (whose target must never appear), a FIFO, a folder,
    the command's own input, an existing file of another kind (``other``'s bytes), or a non-UTF-8 name."""
    out = d / f"out{suffix}"
    if kind == "link-out":
        out.symlink_to(outside)
    elif kind == "dangling-link-out":
        out.symlink_to(outside.parent / f"never-made-{d.name}{suffix}")
    elif kind == "fifo-out":
        os.mkfifo(out)
    elif kind == "folder-out":
        out.mkdir()
    elif kind == "itself":
        return given_input
    elif kind == "other-kind":
        out.write_bytes(other.read_bytes())
    elif kind == "non-utf8-out":
        return d / f"{NON_UTF8}{suffix}"
    return out


def non_utf8_copy(src: Path, d: Path) -> Path:
    """``src`` (a file or folder) copied into ``d`` under a name that is not UTF-8."""
    import shutil

    dst = d / f"{NON_UTF8}{src.suffix}"
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copyfile(src, dst)
    return dst
