"""torch Datasets over a project's face caches with labels from one track: single frames, or windows of
consecutive frames for CNN-RNN models, optionally with log-mel audio around each frame.

Items are dicts: ``image`` float32 (3, 112, 112) normalised (or (T, 3, 112, 112); with ``raw`` the uint8
crop (112, 112, 3) / (T, 112, 112, 3), for augment.prepare_images on the device), ``va`` (2,) f32,
``va_mask`` bool, ``expr`` int64 (-1 unlabelled), ``expr_mask``, ``au`` (k,) f32 (-1 unlabelled), ``au_mask``,
``audio`` (1, n_mels, t) f32 when asked (or (T, 1, n_mels, t)), ``video`` str, ``frame`` int; windows add
``frames`` (T,) int64 and ``face`` (T,) bool (frames without a face are zeros, their labels masked).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info

from ..errors import AffectTraceError
from ..faces.align import CROP_SIZE
from ..faces.cache import FaceCache
from ..faces.pipeline import open_face_cache
from ..labels import EXPR_MISSING, EXPRESSIONS, TASKS, ExpressionMapping, expression_mapping
from .augment import Augment, crop_to_input, normalise, to_float
from .loader import collate_batch
from .logmel import N_MELS, WINDOW_COLUMNS, AudioWindows
from .splits import videos_in_split
from .targets import Targets, targets_from_track

if TYPE_CHECKING:
    from ..project import Project

PRELOAD_LIMIT_BYTES = 4 << 30  # preload=None preloads crops while they fit in this much memory


@dataclass
class VideoData:
    """One video's crops (preloaded uint8 tensor or the open cache), frame -> crop row, targets, audio."""

    name: str
    n_frames: int
    cache: FaceCache
    row_of: np.ndarray  # (n_frames,) int64 crop row per frame, -1 without a face
    targets: Targets
    crops: torch.Tensor | None = None  # (m, 112, 112, 3) uint8 when preloaded
    audio: AudioWindows | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Loader workers are spawned (core.data.workers), so a dataset is pickled for each: preloaded crops
        # would be copied through /dev/shm (GBs, more than a container's default allows). A worker reads
        # the cache file instead, which the page cache shares between processes.
        state = self.__dict__.copy()
        state["crops"] = None
        return state

    def crop(self, frame: int) -> torch.Tensor:
        """(112, 112, 3) uint8 crop of a frame with a face."""
        row = int(self.row_of[frame])
        if self.crops is not None:
            return self.crops[row]
        return torch.from_numpy(self.cache.crop(frame))


def _load_videos(project: Project, label_track: str | None, videos: list[str], tasks: tuple[str, ...],
                 au_names: tuple[str, ...], preload: bool | None, audio: bool, n_mels: int,
                 audio_columns: int, frames: Mapping[str, np.ndarray] | None = None,
                 expr_map: ExpressionMapping | None = None, shared_crops: dict[str, torch.Tensor] | None = None,
                 ) -> tuple[list[VideoData], dict[str, str]]:
    out: list[VideoData] = []
    skipped: dict[str, str] = {}
    for v in videos:
        cache = open_face_cache(project, v)
        if cache is None:
            skipped[v] = "no face cache (run `affecttrace faces` first)"
            continue
        n = int(project.videos[v].frame_count or cache.n_frames)
        if label_track is None:
            from ..tracks import Track, TrackSource

            track = Track.empty(v, "none", TrackSource.fused(), n, au_names)
        elif label_track not in project.track_names(v):
            skipped[v] = f"no track {label_track!r}"
            cache.close()
            continue
        else:
            track = project.track(v, label_track)
        row_of = np.full(n, -1, np.int64)
        inside = cache.frames < n
        row_of[cache.frames[inside]] = np.flatnonzero(inside)
        wave = None
        if audio:
            if project.is_missing(v):
                raise AffectTraceError(f"video {v!r}: audio features need its media", project.media_path(v))
            wave = AudioWindows.from_media(str(project.media_path(v)), n, n_mels=n_mels, columns=audio_columns)
        targets = targets_from_track(track, tasks, au_names, n)
        if expr_map is not None and not expr_map.identity:  # the run's expression classes are another space's
            targets.expr = expr_map.apply(targets.expr)
            targets.expr_mask = targets.expr != EXPR_MISSING
        if frames is not None and v in frames:
            targets = targets.only(frames[v])
        out.append(VideoData(v, n, cache, row_of, targets, audio=wave))
    total = sum(len(d.cache) for d in out) * CROP_SIZE * CROP_SIZE * 3
    if preload or (preload is None and total <= PRELOAD_LIMIT_BYTES):
        shared = shared_crops if shared_crops is not None else {}
        for d in out:
            if d.name not in shared:
                shared[d.name] = torch.from_numpy(d.cache.all_crops())
            d.crops = shared[d.name]
    return out, skipped


class _FaceData(Dataset):
    def __init__(self, project: Project, label_track: str | None, split: str | Iterable[str] | None = "train",
                 tasks: Iterable[str] = TASKS, *, augment: Augment | bool | None = None, audio: bool = False,
                 preload: bool | None = None, require_labels: bool = True, au_names: Iterable[str] | None = None,
                 n_mels: int = N_MELS, audio_columns: int = WINDOW_COLUMNS,
                 frames: Mapping[str, np.ndarray] | None = None, raw: bool = False,
                 expressions: Sequence[str] | None = None, shared_crops: dict[str, torch.Tensor] | None = None
                 ) -> None:
        self.tasks = tuple(tasks)
        bad = [t for t in self.tasks if t not in TASKS]
        if bad:
            raise ValueError(f"unknown tasks {bad}; expected a subset of {TASKS}")
        if label_track is None and require_labels:
            raise ValueError("require_labels needs a label_track")
        self.label_track = label_track
        self.au_names = tuple(au_names) if au_names is not None else tuple(project.au_set.aus)
        self.augment = Augment() if augment is True else (augment or None)
        self.audio = audio
        self.require_labels = require_labels
        self.raw = raw
        names = videos_in_split(project, split)
        self.videos, self.skipped = _load_videos(project, label_track, names, self.tasks, self.au_names,
                                                 preload, audio, n_mels, audio_columns, frames,
                                                 None if expressions is None
                                                 else expression_mapping(EXPRESSIONS, tuple(expressions)),
                                                 shared_crops)

    def _image(self, d: VideoData, frame: int, crop: torch.Tensor | None = None) -> torch.Tensor:
        """The item's image from ``crop`` (read already) or the frame's crop."""
        c = d.crop(frame) if crop is None else crop
        if self.raw:
            return c
        if self.augment is None:
            return crop_to_input(c.numpy())
        return normalise(self.augment(to_float(c)))

    def get_batch(self, indices: Iterable[int]) -> dict[str, Any]:
        """The collated batch of these items (what a batch-fetching loader asks for)."""
        return collate_batch([self[int(i)] for i in indices])

    def close(self) -> None:
        for d in self.videos:
            d.cache.close()


class FaceFrames(_FaceData):
    """Single aligned frames of the videos in ``split`` (a name, a list of videos, or None for all).

    Only frames with a face are items; with ``require_labels`` (default) also only frames labelled for at
    least one of ``tasks``. ``label_track``: an annotator's track or the fused one (None: no labels, for
    prediction). ``augment``: True or an Augment for training. ``preload``: crops into memory
    (None: when they fit in PRELOAD_LIMIT_BYTES); ``shared_crops`` ({video: crops}) lets datasets over the
    same videos (one per annotator, training and validation blocks) hold one copy. ``frames``: {video: bool per
    frame}, labels only there (a time-block split, core.data.splits.time_blocks). ``raw``: uint8 crops (see
    above). ``expressions``: the run's expression classes when they are not the project's (labels mapped by
    core.labels' table)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        vid, frm = [], []
        for i, d in enumerate(self.videos):
            keep = d.row_of >= 0
            if self.require_labels:
                keep &= d.targets.any_label()
            f = np.flatnonzero(keep)
            vid.append(np.full(len(f), i, np.int32))
            frm.append(f)
        self.index_video = np.concatenate(vid) if vid else np.zeros(0, np.int32)
        self.index_frame = np.concatenate(frm) if frm else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.index_frame)

    def __getitem__(self, k: int) -> dict[str, Any]:
        return self._item(k)

    def get_batch(self, indices: Iterable[int]) -> dict[str, Any]:
        """The collated items; crops not preloaded are read with one cache call per video (a run of
        consecutive frames is one read). Raw crops go straight into the batch, in a loader worker into
        shared memory (what the DataLoader would otherwise copy them to)."""
        idx = np.fromiter(indices, np.int64)
        vids, frames = self.index_video[idx], self.index_frame[idx]
        images = torch.empty((len(idx), CROP_SIZE, CROP_SIZE, 3), dtype=torch.uint8)
        if self.raw and get_worker_info() is not None:
            images.share_memory_()
        read = np.zeros(len(idx), bool)
        for v in np.unique(vids).tolist():
            d = self.videos[v]
            at = np.flatnonzero(vids == v)
            if d.crops is None:
                d.cache.crops(frames[at], images.numpy(), at)
                read[at] = True
            elif self.raw:
                images[torch.from_numpy(at)] = d.crops[torch.from_numpy(d.row_of[frames[at]])]
                read[at] = True
        if not self.raw:
            return collate_batch([self._item(int(k), images[j] if read[j] else None) for j, k in enumerate(idx)])
        return {"image": images, **self._labels(vids, frames)}

    def _labels(self, vids: np.ndarray, frames: np.ndarray) -> dict[str, Any]:
        """What collate_batch makes of the items' other keys, gathered per video with numpy."""
        t0 = self.videos[int(vids[0])].targets
        out = {k: np.empty((len(vids), *getattr(t0, k).shape[1:]), getattr(t0, k).dtype)
               for k in ("va", "va_mask", "expr", "expr_mask", "au", "au_mask")}
        audio: list[torch.Tensor | None] = [None] * len(vids)
        for v in np.unique(vids).tolist():
            d = self.videos[v]
            at = np.flatnonzero(vids == v)
            for k, a in out.items():
                a[at] = getattr(d.targets, k)[frames[at]]
            if d.audio is not None:
                for j in at.tolist():
                    audio[j] = d.audio.window(int(frames[j]))
        batch: dict[str, Any] = {k: torch.from_numpy(a) for k, a in out.items()}
        batch["expr"] = batch["expr"].long()
        batch["video"] = [self.videos[int(v)].name for v in vids]
        batch["frame"] = torch.from_numpy(frames.astype(np.int64))
        if audio[0] is not None:
            batch["audio"] = torch.stack([a for a in audio if a is not None])
        return batch

    def _item(self, k: int, crop: torch.Tensor | None = None) -> dict[str, Any]:
        d = self.videos[int(self.index_video[k])]
        f = int(self.index_frame[k])
        t = d.targets
        item: dict[str, Any] = {
            "image": self._image(d, f, crop),
            "va": torch.from_numpy(t.va[f]), "va_mask": bool(t.va_mask[f]),
            "expr": int(t.expr[f]), "expr_mask": bool(t.expr_mask[f]),
            "au": torch.from_numpy(t.au[f]), "au_mask": bool(t.au_mask[f]),
            "video": d.name, "frame": f,
        }
        if d.audio is not None:
            item["audio"] = d.audio.window(f)
        return item


class FaceWindows(_FaceData):
    """Windows of ``length`` consecutive frames every ``stride`` frames (default: ``length``, no overlap),
    plus one ending at the last frame so every frame is covered. A window is kept when it has a face
    (and, with ``require_labels``, a labelled face frame). Frames without a face are zero images whose
    labels are masked; ``face`` marks which frames have one."""

    def __init__(self, *args: Any, length: int = 8, stride: int | None = None, **kw: Any) -> None:
        if length < 1:
            raise ValueError("window length must be >= 1")
        super().__init__(*args, **kw)
        self.length = length
        self.stride = stride or length
        vid, start = [], []
        for i, d in enumerate(self.videos):
            usable = d.row_of >= 0
            if self.require_labels:
                usable &= d.targets.any_label()
            last = max(0, d.n_frames - length)
            starts = sorted(set(range(0, last + 1, self.stride)) | {last})
            # windows with at least one usable frame (cumulative sums: O(frames))
            cs = np.concatenate([[0], np.cumsum(usable)])
            s = np.array(starts, np.int64)
            ok = cs[np.minimum(s + length, d.n_frames)] - cs[s] > 0
            vid.append(np.full(int(ok.sum()), i, np.int32))
            start.append(s[ok])
        self.index_video = np.concatenate(vid) if vid else np.zeros(0, np.int32)
        self.index_start = np.concatenate(start) if start else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.index_start)

    def __getitem__(self, k: int) -> dict[str, Any]:
        d = self.videos[int(self.index_video[k])]
        s = int(self.index_start[k])
        frames = np.arange(s, s + self.length)
        inside = frames < d.n_frames
        clipped = np.minimum(frames, d.n_frames - 1)
        face = inside & (d.row_of[clipped] >= 0)
        crops = np.zeros((self.length, CROP_SIZE, CROP_SIZE, 3), np.uint8)
        if face.any():  # the window's crops: one read of consecutive rows
            crops[face] = d.crops[torch.from_numpy(d.row_of[frames[face]])].numpy() if d.crops is not None \
                else d.cache.crops(frames[face])
        if self.raw:  # frames without a face are zeroed after normalisation, on the device (prepare_images)
            x = torch.from_numpy(crops)
        elif self.augment is None:
            x = crop_to_input(crops)
        else:
            x = normalise(self.augment(to_float(torch.from_numpy(crops))))
        if not self.raw:
            x[torch.from_numpy(~face)] = 0.0
        t = d.targets
        item: dict[str, Any] = {
            "image": x,
            "va": torch.from_numpy(t.va[clipped]), "va_mask": torch.from_numpy(t.va_mask[clipped] & face),
            "expr": torch.from_numpy(t.expr[clipped]), "expr_mask": torch.from_numpy(t.expr_mask[clipped] & face),
            "au": torch.from_numpy(t.au[clipped]), "au_mask": torch.from_numpy(t.au_mask[clipped] & face),
            "video": d.name, "frame": s, "frames": torch.from_numpy(frames), "face": torch.from_numpy(face),
        }
        if d.audio is not None:
            item["audio"] = torch.stack([d.audio.window(int(f)) for f in clipped])
        return item


def face_dataset(project: Project, label_track: str | None, split: str | Iterable[str] | None = "train",
                 tasks: Iterable[str] = TASKS, *, window: int = 1, stride: int | None = None,
                 **kw: Any) -> FaceFrames | FaceWindows:
    """FaceFrames for ``window`` 1, else FaceWindows of that length (keyword options of either)."""
    if window > 1:
        return FaceWindows(project, label_track, split, tasks, length=window, stride=stride, **kw)
    return FaceFrames(project, label_track, split, tasks, **kw)
