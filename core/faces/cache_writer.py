"""Write a face cache in blocks so an interrupted run continues from its last complete block."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..fsio import ensure_room, not_a_link, real_folder
from .align import CROP_SIZE, TEMPLATE_112
from .backends.base import Face

FORMAT_VERSION = 1
# Crops are stored raw, CROP_CHUNK consecutive crops per chunk (bench/affwild2_scale.py, phase "layouts"):
# gzip saved ~20 % of the space of real crops (lzf ~10 %) but inflating a crop cost 5-10x its read, so
# reading was CPU-bound (~600 crops/s per core); raw, a crop is one read (readers open the file without a
# chunk cache, so one crop of a chunk reads only its own bytes) and a run of consecutive crops one
# sequential read. Caches written with gzip, one crop per chunk (the earlier layout), read the same.
CROP_CHUNK = 16
CROP_COMPRESSION: str | None = None
_SPECS: dict[str, tuple[tuple[int, ...], Any, int]] = {
    # name: (row shape, dtype, rows per chunk)
    "frames": ((), np.int32, 4096),
    "crops": ((CROP_SIZE, CROP_SIZE, 3), np.uint8, CROP_CHUNK),
    "landmarks": ((68, 2), np.float32, 512),
    "boxes": ((4,), np.float32, 4096),
    "scores": ((), np.float32, 4096),
    "no_face": ((), np.int32, 4096),
    "other_frames": ((), np.int32, 4096),
    "other_boxes": ((4,), np.float32, 4096),
    "other_scores": ((), np.float32, 4096),
}
_FRAME_KEYED = {"frames": ("crops", "landmarks", "boxes", "scores"), "no_face": (),
                "other_frames": ("other_boxes", "other_scores")}


class FaceCacheWriter:
    """Appends per-frame results; ``flush`` commits a block (``next_frame`` attr marks what is complete).

    Opening an existing, unfinished cache made with the same backend and frame count resumes it:
    ``start`` is the first frame still to do. A finished one has ``complete`` True; anything else
    (another backend, another length, ``overwrite``, an unreadable file) starts afresh.
    """

    def __init__(self, path: str | Path, n_frames: int, backend: str, *, block: int = 256,
                 overwrite: bool = False, meta: dict[str, Any] | None = None,
                 crop_layout: tuple[int, str | None] = (CROP_CHUNK, CROP_COMPRESSION)) -> None:
        """``crop_layout``: (crops per chunk, HDF5 compression or None) of a new cache's crops (the bench
        compares layouts; a resumed cache keeps its own)."""
        import h5py

        self.path = Path(path)
        real_folder(self.path.parent)  # no linked folder inside a project, no cache written through a link
        not_a_link(self.path)
        self.block = max(1, int(block))
        self.start = 0
        self.complete = False
        self.discarded: str | None = None  # why an existing cache was not resumed
        f = None
        if self.path.exists() and not overwrite:
            try:
                f = h5py.File(self.path, "a")
            except OSError as e:  # e.g. killed in the middle of a metadata write
                self.discarded = f"unreadable ({e})"
            else:
                same = (f.attrs.get("backend") == backend and int(f.attrs.get("expected_frames", -1)) == n_frames
                        and int(f.attrs.get("format", 0)) == FORMAT_VERSION and all(k in f for k in _SPECS))
                if same:
                    self.complete = bool(f.attrs.get("complete", False))
                    self.start = int(f.attrs.get("next_frame", 0))
                    self._truncate(f, self.start)
                else:
                    self.discarded = "made by another backend or for another frame count"
                    f.close()
                    f = None
        if f is None:
            ensure_room(self.path, 0)
            f = h5py.File(self.path, "w")
            for name, (shape, dtype, chunk) in _SPECS.items():
                comp: dict[str, Any] = {"compression": "gzip", "compression_opts": 4}
                if name == "crops":
                    chunk = max(1, int(crop_layout[0]))
                    comp = {"compression": crop_layout[1]} if crop_layout[1] else {}
                    if crop_layout[1] == "gzip":
                        comp["compression_opts"] = 4
                f.create_dataset(name, shape=(0, *shape), maxshape=(None, *shape), dtype=dtype,
                                 chunks=(chunk, *shape), **comp)
            f.attrs.update({"format": FORMAT_VERSION, "n_frames": n_frames, "expected_frames": n_frames,
                            "backend": backend,
                            "complete": False, "next_frame": 0, "template": TEMPLATE_112,
                            "crop_size": CROP_SIZE})
        for k, v in (meta or {}).items():
            f.attrs[k] = v
        self._f = f
        self.n_frames = int(f.attrs["n_frames"])
        self._pending: dict[str, list[Any]] = {k: [] for k in _SPECS}
        self._next = self.start

    @staticmethod
    def _truncate(f: Any, next_frame: int) -> None:
        """Drop rows written after the last committed block (an interrupted flush)."""
        for key, followers in _FRAME_KEYED.items():
            keep = int(np.searchsorted(f[key][()], next_frame))
            for name in (key, *followers):
                if f[name].shape[0] > keep:
                    f[name].resize(keep, axis=0)

    def add(self, index: int, face: Face | None, crop: np.ndarray | None = None,
            others: list[Face] | None = None) -> None:
        """Record frame ``index`` (frames must come in increasing order)."""
        if index < self._next:
            raise ValueError(f"frame {index} comes after frame {self._next - 1}")
        p = self._pending
        if face is None:
            p["no_face"].append(index)
        else:
            p["frames"].append(index)
            p["crops"].append(crop)
            p["landmarks"].append(face.landmarks)
            p["boxes"].append(face.box)
            p["scores"].append(face.score)
        for o in others or ():
            p["other_frames"].append(index)
            p["other_boxes"].append(o.box)
            p["other_scores"].append(o.score)
        self._next = index + 1
        if len(p["frames"]) + len(p["no_face"]) >= self.block:
            self.flush()

    def flush(self) -> None:
        """Append the pending rows and commit them (data first, then the ``next_frame`` mark). A disk
        without room for them (uncompressed) is refused before HDF5 writes anything."""
        ensure_room(self.path, sum(np.asarray(r[0]).nbytes * len(r) if r else 0 for r in self._pending.values()))
        for name, rows in self._pending.items():
            if not rows:
                continue
            shape, dtype, _ = _SPECS[name]
            data = np.asarray(rows, dtype=dtype).reshape(len(rows), *shape)
            ds = self._f[name]
            n = ds.shape[0]
            ds.resize(n + len(rows), axis=0)
            ds[n:] = data
            rows.clear()
        self._f.attrs["next_frame"] = self._next
        self._f.flush()

    def finish(self, n_frames: int | None = None) -> None:
        """Commit everything and mark the cache complete (``n_frames``: the count that really decoded)."""
        self.flush()
        if n_frames is not None:
            self._f.attrs["n_frames"] = n_frames
            self.n_frames = n_frames
        self._f.attrs["complete"] = True
        self.complete = True
        self._f.flush()

    def close(self) -> None:
        if self._f is not None:
            try:
                self.flush()
            finally:
                self._f.close()
                self._f = None

    def __enter__(self) -> "FaceCacheWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
