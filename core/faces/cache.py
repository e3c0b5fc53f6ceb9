"""Read aligned face crops: our HDF5 face caches and Aff-Wild2 ``cropped_aligned/<video>/`` folders alike.

HDF5 layout (``cache/faces/<video>.h5``): ``frames`` (m,) int32 frame indices with a face, ``crops``
(m, 112, 112, 3) uint8 RGB (raw, 16 rows a chunk; earlier caches: gzip, one row a chunk: both read the
same), ``landmarks`` (m, 68, 2) f32, ``boxes`` (m, 4) f32 xyxy, ``scores`` (m,) f32,
``no_face`` (j,) int32, ``other_frames``/``other_boxes``/``other_scores`` (faces seen besides the tracked
one, at keyframes); attrs ``n_frames``, ``backend``, ``complete``, ``template``, ``next_frame``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from ..errors import AffectTraceError
from .align import CROP_SIZE

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
CROP_BYTES = CROP_SIZE * CROP_SIZE * 3


class FaceCache:
    """Aligned crops of one video, by frame index. ``path``: an .h5 face cache or a folder of
    ``{i+1:05d}.jpg`` crops (Aff-Wild2 numbering; ``n_frames`` tells how many frames the video has,
    else the last crop's frame + 1). Safe to pickle (DataLoader workers reopen the file)."""

    def __init__(self, path: str | Path, n_frames: int | None = None) -> None:
        self.path = Path(path)
        self._h5: Any = None
        self._crops_ds: Any = None  # the open 'crops' dataset: looking it up per crop cost more than reading it
        self._raw: tuple[int, int, np.ndarray] | None = None  # (fd, crops per chunk, file offset per chunk)
        self._raw_checked = False
        self._files: dict[int, Path] = {}
        self.is_folder = self.path.is_dir()
        if self.is_folder:
            self._open_folder(n_frames)
        else:
            self._open_h5(n_frames)
        self._pos = {int(f): k for k, f in enumerate(self.frames)}

    # --- opening -------------------------------------------------------------------------------
    def _open_folder(self, n_frames: int | None) -> None:
        files: dict[int, Path] = {}
        for p in self.path.iterdir():
            if p.suffix.lower() in IMAGE_SUFFIXES and p.stem.isdigit() and int(p.stem) >= 1:
                files[int(p.stem) - 1] = p
        self._files = files
        self.frames = np.array(sorted(files), dtype=np.int32)
        last = int(self.frames[-1]) + 1 if len(self.frames) else 0
        self.n_frames = int(n_frames) if n_frames is not None else last
        self.frames = self.frames[self.frames < self.n_frames]
        present = np.zeros(self.n_frames, bool)
        present[self.frames] = True
        self.no_face = np.flatnonzero(~present).astype(np.int32)
        self.backend = "cropped_aligned"
        self.complete = True
        self.attrs: dict[str, Any] = {}

    def _open_h5(self, n_frames: int | None) -> None:
        if not self.path.is_file():
            raise AffectTraceError("face cache not found", self.path)
        f = self._file()
        if "frames" not in f or "crops" not in f:
            raise AffectTraceError("not a face cache (no 'frames'/'crops' datasets)", self.path)
        self.attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
        self.frames = f["frames"][()].astype(np.int32)
        self.no_face = f["no_face"][()].astype(np.int32) if "no_face" in f else np.zeros(0, np.int32)
        self.n_frames = int(n_frames if n_frames is not None else self.attrs.get("n_frames", 0))
        self.backend = str(self.attrs.get("backend", ""))
        self.complete = bool(self.attrs.get("complete", False))
        if not self.complete:  # a partly written cache: only rows before the last complete block count
            done = int(self.attrs.get("next_frame", 0))
            self.frames = self.frames[self.frames < done]
            self.no_face = self.no_face[self.no_face < done]

    def _file(self) -> Any:
        if self._h5 is None:
            import h5py

            try:
                # no chunk cache: a crop read from a raw chunk of several is then one read of its own
                # bytes, not of the whole chunk (gzip chunks hold one crop each: nothing to cache)
                self._h5 = h5py.File(self.path, "r", rdcc_nbytes=0)
            except OSError as e:
                raise AffectTraceError(f"unreadable face cache ({e})", self.path) from e
        return self._h5

    def _crops(self) -> Any:
        if self._crops_ds is None:
            self._crops_ds = self._file()["crops"]
        return self._crops_ds

    def _raw_chunks(self) -> tuple[int, int, np.ndarray] | None:
        """Where crops stored raw (no filter) lie in the file: read with pread, a crop costs a system call
        rather than h5py's ~100 us of selection building. None for compressed crops."""
        if self._raw_checked:
            return self._raw
        self._raw_checked = True
        ds = self._crops()
        if (ds.chunks is None or ds.dtype != np.uint8 or tuple(ds.chunks[1:]) != (CROP_SIZE, CROP_SIZE, 3)
                or ds.id.get_create_plist().get_nfilters()):
            return None
        k = int(ds.chunks[0])
        offsets = np.full(-(-len(self.frames) // k), -1, np.int64)

        def note(info: Any) -> None:
            c = int(info.chunk_offset[0]) // k
            if c < len(offsets):
                offsets[c] = info.byte_offset

        ds.id.chunk_iter(note)
        if (offsets < 0).any():  # a chunk not written (cannot happen for rows below next_frame): use HDF5
            return None
        self._raw = (os.open(self.path, os.O_RDONLY), k, offsets)
        return self._raw

    def _pread_rows(self, raw: tuple[int, int, np.ndarray], rows: np.ndarray, out: np.ndarray,
                    dest: np.ndarray) -> None:
        """Crop of row ``rows[j]`` into ``out[dest[j]]``, straight from the file: one pread per run that
        is adjacent both in the file and in ``out``."""
        fd, k, offsets = raw
        at = offsets[rows // k] + (rows % k) * CROP_BYTES
        breaks = np.flatnonzero((np.diff(at) != CROP_BYTES) | (np.diff(dest) != 1)) + 1
        for a, b in zip([0, *breaks.tolist()], [*breaks.tolist(), len(rows)]):
            d = int(dest[a])
            if os.preadv(fd, [out[d:d + b - a].data.cast("B")], int(at[a])) != (b - a) * CROP_BYTES:
                raise AffectTraceError("face cache truncated (crops missing)", self.path)

    # --- queries --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frames)

    def has(self, i: int) -> bool:
        return int(i) in self._pos

    def position(self, i: int) -> int:
        """Row of frame ``i`` in the crop arrays (KeyError when the frame has no face)."""
        return self._pos[int(i)]

    def crop(self, i: int) -> np.ndarray:
        """(112, 112, 3) uint8 RGB crop of frame ``i``; KeyError when that frame has no face."""
        k = self.position(i)
        if self.is_folder:
            return self._read_image(self._files[int(self.frames[k])])
        if self._raw_chunks() is None:
            return self._crops()[k]
        return self.crops([i])[0]

    def crops(self, idx: Sequence[int] | np.ndarray, out: np.ndarray | None = None,
              dest: np.ndarray | None = None) -> np.ndarray:
        """(len(idx), 112, 112, 3) uint8 crops of the given frames (each must have a face). With ``out``
        (a C-contiguous uint8 (n, 112, 112, 3) array, e.g. a batch in shared memory) crop ``idx[j]`` goes
        to ``out[dest[j]]`` (``dest`` default: j) and ``out`` is returned."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        if out is None:
            out = np.empty((len(idx), CROP_SIZE, CROP_SIZE, 3), np.uint8)
        dest = np.arange(len(idx)) if dest is None else np.asarray(dest, np.int64)
        if len(idx) == 0:
            return out
        rows = np.searchsorted(self.frames, idx)  # frames are increasing
        found = rows < len(self.frames)
        found[found] = self.frames[rows[found]] == idx[found]
        if not found.all():
            raise KeyError(int(idx[np.argmin(found)]))
        raw = None if self.is_folder else self._raw_chunks()
        if raw is not None:
            self._pread_rows(raw, rows, out, dest)
        elif self.is_folder:
            for r, d in zip(rows.tolist(), dest.tolist()):
                out[d] = self._read_image(self._files[int(self.frames[r])])
        else:
            uniq, inverse = np.unique(rows, return_inverse=True)
            out[dest] = self._rows(uniq)[inverse]
        return out

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        """Crops of increasing, distinct ``rows`` through HDF5 (compressed crops): one read per run of
        consecutive rows (h5py's point selections cost a search per row)."""
        ds = self._crops()
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        starts = np.concatenate([[0], breaks])
        ends = np.concatenate([breaks, [len(rows)]])
        if len(starts) == 1:
            return ds[int(rows[0]): int(rows[-1]) + 1]
        out = np.empty((len(rows), CROP_SIZE, CROP_SIZE, 3), np.uint8)
        for a, b in zip(starts.tolist(), ends.tolist()):
            ds.read_direct(out, np.s_[int(rows[a]): int(rows[b - 1]) + 1], np.s_[a:b])
        return out

    def all_crops(self) -> np.ndarray:
        """Every crop in row order (matching ``frames``), read in one go."""
        if self.is_folder:
            return self.crops(self.frames)
        return self._crops()[: len(self.frames)]

    def _array(self, name: str) -> np.ndarray | None:
        if self.is_folder or name not in self._file():
            return None
        return self._file()[name][: len(self.frames)]

    @property
    def landmarks(self) -> np.ndarray | None:
        """(m, 68, 2) landmarks in frame pixels, None for crop folders."""
        return self._array("landmarks")

    @property
    def boxes(self) -> np.ndarray | None:
        return self._array("boxes")

    @property
    def scores(self) -> np.ndarray | None:
        return self._array("scores")

    def others(self) -> tuple[np.ndarray, np.ndarray]:
        """Faces seen besides the tracked one: (frames (r,), boxes (r, 4))."""
        if self.is_folder or "other_frames" not in self._file():
            return np.zeros(0, np.int32), np.zeros((0, 4), np.float32)
        f = self._file()
        return f["other_frames"][()], f["other_boxes"][()]

    def _read_image(self, path: Path) -> np.ndarray:
        from ..imagedata.decode import ImageError, read_image  # strict: regular files, any file name's bytes

        try:
            img = read_image(path)
        except ImageError as e:
            raise AffectTraceError(f"unreadable face crop: {e}", path) from None
        if img.shape[:2] != (CROP_SIZE, CROP_SIZE):
            img = cv2.resize(img, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
        return img

    # --- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        if self._raw is not None:
            os.close(self._raw[0])
        self._raw, self._raw_checked = None, False
        if self._h5 is not None:
            self._crops_ds = None
            self._h5.close()
            self._h5 = None

    def __enter__(self) -> "FaceCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_h5"] = None
        state["_crops_ds"] = None
        state["_raw"], state["_raw_checked"] = None, False
        return state

    def summary(self) -> dict[str, Any]:
        """The JSON-able summary the ``faces`` command prints."""
        return {
            "cache": str(self.path),
            "backend": self.backend,
            "complete": self.complete,
            "frames": self.n_frames,
            "frames_with_face": int(len(self.frames)),
            "frames_without_face": [int(i) for i in self.no_face],
        }
