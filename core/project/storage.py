"""HDF5 storage: immutable pack files of tracks under tracks/, and annotations.h5 as the index.

A save writes the changed tracks only (copy-on-write) into one new pack file, then commits a new
annotations.h5 by atomic rename; the previous index is kept as annotations.prev.h5 so a corrupt or
half-written index falls back one generation. annotations.h5 holds ``/videos/<video>/<track>``
external links to the packs, so plain h5py (or HDFView) sees per video/track groups with va, expr,
au (and au_intensity, expr_prob, au_prob, va_std where present) datasets and the track source as a JSON attr.
"""
from __future__ import annotations

import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from ..errors import ProjectError
from ..fsio import (
    NOFOLLOW,
    atomic_write_with,
    disk_problem,
    fsync_dir,
    fsync_file,
    open_regular,
    remove_quietly,
    write_all,
)
from ..labels import TASKS
from ..safepaths import excerpt, name_problem
from ..tracks import Track, TrackSource

INDEX_NAME = "annotations.h5"
PREV_INDEX_NAME = "annotations.prev.h5"
TRACKS_DIR = "tracks"
INDEX_FORMAT = "affecttrace-annotations"
SEGMENT_FORMAT = "affecttrace-track"
VERSION = 1
# gzip level 1 + shuffle rather than lzf: readable by every HDF5 tool (MATLAB, R, HDFView) without a
# plugin, and measured here both faster and smaller than lzf (bench/store.py --compression lzf).
COMPRESSION: dict[str, Any] = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
CHUNK_FRAMES = 8192
OPTIONAL = ("au_intensity", "expr_prob", "au_prob", "va_std")


def _h5py():
    import h5py  # imported on first use: opening a project for its manifest alone stays light

    return h5py


@dataclass
class TrackEntry:
    """What the index knows about a saved track without reading its arrays."""

    video: str
    name: str
    file: str | None  # pack file relative to the project folder; None until first saved
    group: str  # the track's group inside the pack
    n_frames: int
    au_names: tuple[str, ...]
    source: TrackSource
    labelled: dict[str, int] = field(default_factory=dict)  # frames labelled per task

    def to_dict(self) -> dict[str, Any]:
        return {"video": self.video, "name": self.name, "file": self.file, "group": self.group,
                "n_frames": self.n_frames,
                "au_names": list(self.au_names), "source": self.source.to_dict(), "labelled": self.labelled}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrackEntry":
        e = cls(str(d["video"]), str(d["name"]), d.get("file"), str(d.get("group", "/")), int(d["n_frames"]),
                tuple(d["au_names"]),
                TrackSource.from_dict(d["source"]), {k: int(v) for k, v in d.get("labelled", {}).items()})
        for what, name in (("video name", e.video), ("track name", e.name)):
            problem = name_problem(name)
            if problem:
                raise ValueError(f"{what} {problem}")
        if e.file is not None:
            pack_rel(e.file)
        return e

    @classmethod
    def of(cls, track: Track, file: str | None, group: str = "/") -> "TrackEntry":
        return cls(track.video, track.name, file, group, track.n_frames, tuple(track.au_names), track.source,
                   {t: int(track.labelled(t).sum()) for t in TASKS})


def pack_rel(rel: object) -> str:
    """``rel`` when it names a pack file under tracks/ (index and journal entries are checked with it)."""
    if not isinstance(rel, str) or "\0" in rel:
        raise ValueError(f"track file {excerpt(rel)} is not a file name")
    parts = PurePosixPath(rel).parts
    if len(parts) != 2 or parts[0] != TRACKS_DIR or parts[1] in (".", "..") or not rel.endswith(".h5"):
        raise ValueError(f"track file {excerpt(rel)} points outside the project's {TRACKS_DIR}/ folder")
    return rel


def h5_problem(e: BaseException) -> str:
    """A short reason from an h5py/HDF5 error (its messages run to several lines of library detail)."""
    text = str(e)
    if "errno = 28" in text or "No space left" in text:
        return "No space left on device"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    first = text.splitlines()[0] if text else type(e).__name__
    return first[:200]


# ------------------------------------------------------------------ packs

def write_pack(path: Path, tracks: list[Track], sync: bool = True,
               extras: list[dict[str, np.ndarray]] | None = None) -> list[str]:
    """Write tracks into a new pack file (groups t0, t1, ...); returns their group paths.

    Raises ProjectError naming the file on failure (disk full, permissions) and removes the partial file.
    """
    h5py = _h5py()
    groups = []
    # HDF5 builds the file in memory and plain writes put it on disk: HDF5 closing a file whose write
    # failed (a full disk) can crash the process (SIGSEGV in H5Fclose), and a plain write never follows a link
    image = io.BytesIO()
    try:
        with h5py.File(image, "w", locking=False) as f:
            f.attrs["format"] = SEGMENT_FORMAT
            f.attrs["version"] = VERSION
            for i, track in enumerate(tracks):
                gname = f"/t{i}"
                g = f.create_group(gname)
                _write_track(g, track)
                for name, arr in (extras[i] if extras else {}).items():  # edit stamps of lanes (core.project.stamps)
                    g.create_dataset(name, data=arr, chunks=True, **COMPRESSION)
                groups.append(gname)
    except (OSError, RuntimeError, ValueError) as e:
        raise ProjectError(f"cannot write tracks: {h5_problem(e)}", path) from e
    fd = open_regular(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, error=ProjectError)
    try:
        write_all(fd, image.getvalue())
        if sync:
            os.fsync(fd)
    except OSError as e:
        os.close(fd)
        fd = -1
        remove_quietly(path)
        raise ProjectError(f"cannot write tracks: {disk_problem(path, e)}", path) from e
    finally:
        if fd >= 0:
            os.close(fd)
    return groups


def _write_track(g: Any, track: Track) -> None:
    g.attrs["source"] = json.dumps(track.source.to_dict())
    g.attrs["meta"] = json.dumps({"video": track.video, "name": track.name, "au_names": list(track.au_names),
                                  "n_frames": track.n_frames})
    h5py = _h5py()
    for name in ("va", "expr", "au") + OPTIONAL:
        arr = getattr(track, name)
        if arr is None:
            continue
        arr = np.ascontiguousarray(arr)
        # the low-level calls: a third less CPU per track than create_dataset, which counts for full saves
        # labels (int8) shrink 10x under gzip; float traces only ~20 % for 4x the CPU, so they are
        # compressed only when mostly unlabelled (NaN runs), as in tracks made for other tasks
        squeeze = arr.dtype.kind != "f" or (arr.size > 0 and np.isnan(arr).mean() > 0.5)
        dset = h5py.h5d.create(g.id, name.encode(), h5py.h5t.py_create(arr.dtype),
                               h5py.h5s.create_simple(arr.shape), dcpl=_dcpl(arr.shape, squeeze))
        if arr.size:
            dset.write(h5py.h5s.ALL, h5py.h5s.ALL, arr)


def _dcpl(shape: tuple[int, ...], compress: bool) -> Any:
    h5py = _h5py()
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((max(1, min(shape[0], CHUNK_FRAMES)),) + tuple(max(1, s) for s in shape[1:]))
    if not compress:
        return dcpl
    if COMPRESSION.get("shuffle"):
        dcpl.set_shuffle()
    kind = COMPRESSION.get("compression")
    if kind == "gzip":
        dcpl.set_deflate(int(COMPRESSION.get("compression_opts", 1)))
    elif kind == "lzf":
        dcpl.set_filter(h5py.h5z.FILTER_LZF, h5py.h5z.FLAG_OPTIONAL)
    return dcpl


def _read_group(f: Any, path: Path, group: str, video: str, name: str) -> Track:
    h5py = _h5py()
    g = f[group]
    source = TrackSource.from_dict(json.loads(g.attrs["source"]))
    meta = json.loads(g.attrs["meta"])
    au_names, n = tuple(meta["au_names"]), int(meta["n_frames"])
    arrays = {}
    for k in ("va", "expr", "au") + OPTIONAL:
        if not g.id.links.exists(k.encode()):
            if k in ("va", "expr", "au"):
                raise ProjectError(f"track {video}/{name}: dataset {k!r} is missing", path)
            continue
        d = h5py.h5d.open(g.id, k.encode())  # low-level read: a third of h5py's per-call overhead
        arr = np.empty(d.shape, d.dtype)
        if arr.size:
            d.read(h5py.h5s.ALL, h5py.h5s.ALL, arr)
        arrays[k] = arr
    k_au = len(au_names)
    shapes = {"va": (n, 2), "expr": (n,), "au": (n, k_au), "au_intensity": (n, k_au), "au_prob": (n, k_au),
              "va_std": (n, 2)}
    for k, arr in arrays.items():
        want = shapes.get(k, (n, arr.shape[1] if arr.ndim == 2 else -1))
        if arr.shape != want:
            raise ProjectError(f"track {video}/{name}: dataset {k!r} has shape {arr.shape}, expected {want}", path)
    return Track(video, name, source, au_names, arrays["va"], arrays["expr"], arrays["au"],
                 arrays.get("au_intensity"), arrays.get("expr_prob"), arrays.get("au_prob"), arrays.get("va_std"))


def read_arrays(path: Path, groups: list[str], names: tuple[str, ...],
                missing_ok: bool = False) -> list[dict[str, np.ndarray]]:
    """Some datasets of many tracks of one pack, the file opened once (status tables over thousands of tracks);
    ``missing_ok``: a dataset a track lacks is left out rather than an error."""
    h5py = _h5py()
    out = []
    try:
        with h5py.File(path, "r", locking=False) as f:
            for group in groups:
                gid = h5py.h5g.open(f.id, group.encode())  # low-level: no Group objects (thousands of tracks)
                arrays = {}
                for k in names:
                    if missing_ok and not gid.links.exists(k.encode()):
                        continue
                    d = h5py.h5d.open(gid, k.encode())
                    arr = np.empty(d.shape, d.dtype)
                    if arr.size:
                        d.read(h5py.h5s.ALL, h5py.h5s.ALL, arr)
                    arrays[k] = arr
                out.append(arrays)
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        raise ProjectError(f"unreadable track file ({h5_problem(e)})", path) from e
    return out


def pack_problem(path: Path) -> str | None:
    """'is missing' / 'is damaged (...)' when a pack file cannot be read as one; None when it opens."""
    if not os.path.lexists(path):
        return "is missing"
    if not path.is_file():
        return "is not a regular file"
    try:
        with _h5py().File(path, "r", locking=False) as f:
            if f.attrs.get("format") != SEGMENT_FORMAT:
                return "is damaged (not an AffectTrace track file)"
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        return f"is damaged ({h5_problem(e)})"
    return None


def read_track(path: Path, group: str, video: str, name: str) -> Track:
    """Load a track's arrays; a missing, truncated or inconsistent file is a ProjectError naming it.

    The file is opened per call: keeping packs open costs ~50 % more memory (HDF5 heap growth) for
    a third less CPU, and a project is read a video at a time.
    """
    try:
        with _h5py().File(path, "r", locking=False) as f:
            if f.attrs.get("format") != SEGMENT_FORMAT:
                raise ProjectError(f"not an AffectTrace track file (format {f.attrs.get('format')!r})", path)
            return _read_group(f, path, group, video, name)
    except ProjectError:
        raise
    except FileNotFoundError as e:
        raise ProjectError(f"track {video}/{name}: file is missing", path) from e
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as e:
        raise ProjectError(f"track {video}/{name}: unreadable ({h5_problem(e)})", path) from e


# ------------------------------------------------------------------ index

def _link_name(s: str) -> bytes:
    """HDF5 link names cannot hold '/' nor be '.'; escape as in URLs."""
    s = s.replace("%", "%25").replace("/", "%2F")
    return (s if s not in (".", "") else s.replace(".", "%2E") or "%00").encode("utf-8")


@dataclass
class Index:
    generation: int
    entries: dict[tuple[str, str], TrackEntry]
    saved_at: float = 0.0
    packs: dict[str, int] = field(default_factory=dict)  # pack written by a save -> frames it holds
    meta: dict[str, Any] = field(default_factory=dict)  # lanes: the edit sessions seen (core.project.stamps)
    path: Path | None = None


def write_index(path: Path, index: Index, keep_prev: bool) -> None:
    """Commit a new annotations.h5 atomically; the current one becomes annotations.prev.h5 first."""
    h5py = _h5py()
    saved_at = time.time()

    def writer(tmp: Path) -> None:
        image = io.BytesIO()  # built in memory, written plainly: see write_pack
        try:
            with h5py.File(image, "w", locking=False) as f:
                f.attrs["format"] = INDEX_FORMAT
                f.attrs["version"] = VERSION
                f.attrs["generation"] = index.generation
                f.attrs["saved_at"] = saved_at
                table = [e.to_dict() for e in index.entries.values() if e.file]
                text = json.dumps({"tracks": table, "packs": index.packs, "meta": index.meta}, separators=(",", ":"))
                f.create_dataset("index", data=text)
                videos = f.create_group("videos")
                groups: dict[str, Any] = {}
                for e in index.entries.values():
                    if not e.file:
                        continue
                    g = groups.get(e.video)
                    if g is None:  # the low-level calls: ~4x faster than h5py's path handling for 1000s of links
                        g = groups[e.video] = h5py.h5g.create(videos.id, _link_name(e.video))
                    g.links.create_external(_link_name(e.name), e.file.encode("utf-8"), e.group.encode("utf-8"))
            fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | NOFOLLOW)
            try:
                write_all(fd, image.getvalue())
            finally:
                os.close(fd)
            fsync_file(tmp)
        except (RuntimeError, ValueError) as e:
            raise OSError(0, h5_problem(e)) from e
        except OSError as e:
            if e.errno is None or not e.strerror:
                raise OSError(e.errno or 0, h5_problem(e)) from e
            raise

    current = path
    prev = path.with_name(PREV_INDEX_NAME)
    if keep_prev and current.exists():
        _keep_previous(current, prev)
    atomic_write_with(path, writer)
    index.saved_at = saved_at


def _keep_previous(current: Path, prev: Path) -> None:
    """annotations.h5 -> annotations.prev.h5 without a moment where either is half-written."""
    link = prev.with_name(f".{prev.name}.{os.getpid()}.link")
    remove_quietly(link)
    try:
        try:
            os.link(current, link)  # instant; annotations.h5 stays in place until the new one replaces it
        except OSError:
            import shutil

            shutil.copyfile(current, link)
            fsync_file(link)
        os.replace(link, prev)
    except OSError as e:
        remove_quietly(link)
        from ..fsio import os_problem

        raise ProjectError(f"cannot keep the previous generation: {os_problem(e)}", prev) from e


def read_index(path: Path) -> Index:
    """Read annotations.h5's table (not the tracks). A damaged file is a ProjectError naming it."""
    h5py = _h5py()
    try:
        with h5py.File(path, "r", locking=False) as f:
            if f.attrs.get("format") != INDEX_FORMAT:
                raise ProjectError(f"not an AffectTrace annotations file (format {f.attrs.get('format')!r})", path)
            version = int(f.attrs.get("version", 0))
            if version > VERSION:
                raise ProjectError(f"annotations format version {version} is newer than this AffectTrace "
                                   f"({VERSION})", path)
            generation = int(f.attrs["generation"])
            saved_at = float(f.attrs.get("saved_at", 0.0))
            raw = f["index"][()]
        table = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        packs = {str(k): int(v) for k, v in table.get("packs", {}).items()}
        meta = table.get("meta") if isinstance(table.get("meta"), dict) else {}
        entries = {}
        for d in table["tracks"]:
            e = TrackEntry.from_dict(d)
            entries[(e.video, e.name)] = e
    except ProjectError:
        raise
    except FileNotFoundError as e:
        raise ProjectError("annotations file is missing", path) from e
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as e:
        raise ProjectError(f"damaged annotations file ({h5_problem(e)})", path) from e
    return Index(generation, entries, saved_at, packs=packs, meta=meta, path=path)


def pack_files(folder: Path) -> list[Path]:
    d = folder / TRACKS_DIR
    return sorted(d.glob("*.h5")) if d.is_dir() else []


def sync_tracks_dir(folder: Path) -> None:
    fsync_dir(folder / TRACKS_DIR)
