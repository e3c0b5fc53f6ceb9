"""Run the face pipeline over a video (or every video of a project) into resumable HDF5 face caches."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..errors import AffectTraceError
from ..progress import CancelToken, Progress, no_progress
from ..userdirs import user_cache_dir
from .align import warp_face
from .backends import REFERENCE_FILE, FaceBackend, ReferenceBackend, load_reference, make_backend
from .cache import FaceCache
from .cache_writer import FaceCacheWriter
from .tracker import FaceTracker

if TYPE_CHECKING:
    from ..project import Project

DEFAULT_EVERY = 10  # keyframe interval: a full detection at least this often


@dataclass
class FaceRun:
    """What one pipeline run did; ``to_dict`` is the per-video JSON of ``affecttrace faces``."""

    video: str
    cache: Path
    backend: str
    frames: int = 0
    frames_with_face: int = 0
    frames_without_face: list[int] = field(default_factory=list)
    frames_with_other_faces: int = 0
    complete: bool = False
    resumed_from: int = 0
    processed: int = 0
    seconds: float = 0.0
    note: str = ""

    @property
    def fps(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = {"video": self.video, "cache": str(self.cache), "backend": self.backend, "frames": self.frames,
             "frames_with_face": self.frames_with_face, "frames_without_face": self.frames_without_face,
             "frames_with_other_faces": self.frames_with_other_faces, "complete": self.complete,
             "resumed_from": self.resumed_from, "processed": self.processed,
             "seconds": round(self.seconds, 3), "fps": round(self.fps, 2)}
        if self.note:
            d["note"] = self.note
        return d


def prefer_for(video: str) -> str:
    """Aff-Wild2 names two people in one video ``<name>_left`` / ``<name>_right``: follow that side."""
    if video.endswith("_left"):
        return "left"
    if video.endswith("_right"):
        return "right"
    return "central"


def default_media_cache(media: str | Path) -> Path:
    """Where `affecttrace faces MEDIA` keeps its cache when no project holds it (user cache folder)."""
    media = Path(media).resolve()
    root = user_cache_dir() / "faces"
    tag = hashlib.sha1(str(media).encode()).hexdigest()[:8]
    return root / f"{media.stem}-{tag}.h5"


def _from_cache(video: str, cache: FaceCache, **extra: Any) -> FaceRun:
    others, _ = cache.others()
    run = FaceRun(video=video, cache=cache.path, backend=cache.backend, frames=cache.n_frames,
                  frames_with_face=len(cache.frames), frames_without_face=[int(i) for i in cache.no_face],
                  frames_with_other_faces=len(set(int(i) for i in others)), complete=cache.complete)
    for k, v in extra.items():
        setattr(run, k, v)
    return run


def process_video(media: str | Path, cache_path: str | Path, backend: FaceBackend, *, video: str | None = None,
                  every: int = DEFAULT_EVERY, prefer: str | None = None, block: int = 256,
                  overwrite: bool = False, progress: Progress = no_progress,
                  cancel: CancelToken | None = None) -> FaceRun:
    """Detect, track and align the face of every frame of ``media`` into ``cache_path``.

    Resumes an unfinished cache of the same backend; a finished one is returned as it is unless
    ``overwrite``. Cancelling (``cancel``) stops between frames with the work so far committed.
    """
    from ..media import MediaReader

    video = video or Path(media).stem
    t0 = time.perf_counter()
    with MediaReader(media) as reader:
        n = len(reader)
        with FaceCacheWriter(cache_path, n, backend.name, block=block, overwrite=overwrite,
                             meta={"video": video, "media": str(media), "every": every}) as writer:
            start = writer.start
            note = f"previous cache discarded: {writer.discarded}" if writer.discarded else ""
            if writer.complete:
                processed = 0
                note = note or "cache already complete (overwrite / --force redoes it)"
            else:
                tracker = FaceTracker(backend, every=every, prefer=prefer or prefer_for(video))
                processed, last, reported = 0, start - 1, start
                progress(start, n, video)
                for i, frame in reader.iter_frames(start=start):
                    if cancel is not None and cancel.cancelled:
                        break
                    step = tracker.step(frame, i)
                    crop = None if step.face is None else warp_face(frame, step.face.landmarks)
                    writer.add(i, step.face, crop, step.others)
                    processed, last = processed + 1, i
                    if processed % 8 == 0:
                        progress(i + 1, n, video)
                        reported = i + 1
                else:  # every frame decoded: the cache is complete (at the count that really decodes)
                    writer.finish(n_frames=max(last + 1, start))
                if reported < n:
                    progress(n if writer.complete else last + 1, n, video)
    seconds = time.perf_counter() - t0
    with FaceCache(cache_path) as cache:
        return _from_cache(video, cache, resumed_from=start, processed=processed, seconds=seconds, note=note)


def reference_for(project: Project, video: str, reference: str | Path | None) -> ReferenceBackend:
    """The reference landmarks of a project video: ``reference`` or the project's ground_truth.h5."""
    path = Path(reference) if reference is not None else Path(project.folder) / REFERENCE_FILE
    return load_reference(path, video)


def face_cache_path(project: Project, video: str) -> Path:
    """Where a project video's crops are: its ``crops`` folder (Aff-Wild2 cropped_aligned) if set,
    else ``cache/faces/<video>.h5``."""
    entry = project.videos[video]
    if entry.crops:
        crops = Path(entry.crops)
        return crops if crops.is_absolute() else Path(project.folder) / crops
    return Path(project.cache_dir("faces")) / f"{video}.h5"


def open_face_cache(project: Project, video: str) -> FaceCache | None:
    """The face cache of a project video, or None when there is none yet."""
    path = face_cache_path(project, video)
    if not path.exists():
        return None
    return FaceCache(path, n_frames=project.videos[video].frame_count if path.is_dir() else None)


def videos_without_faces(project: Project, videos: list[str]) -> list[str]:
    """Those of ``videos`` whose face cache is missing or unfinished (`affecttrace faces` resumes them)."""
    out = []
    for v in videos:
        path = face_cache_path(project, v)
        if path.is_dir():  # a folder of Aff-Wild2 crops is read as it is
            continue
        try:
            with FaceCache(path) as cache:
                complete = cache.complete
        except (OSError, AffectTraceError):
            complete = False
        if not complete:
            out.append(v)
    return out


def process_project(project: Project, *, backend: str = "auto", videos: list[str] | None = None,
                    every: int = DEFAULT_EVERY, reference: str | Path | None = None,
                    allow_download: bool = False, overwrite: bool = False,
                    progress_for: Callable[[str], Progress] | None = None,
                    cancel: CancelToken | None = None) -> dict[str, FaceRun]:
    """Face caches for the videos of a project (all by default). Videos with a ``crops`` folder are
    read as they are; videos whose media is missing are reported in the run's ``note``."""
    names = list(project.videos) if videos is None else list(videos)
    for v in names:
        if v not in project.videos:
            raise AffectTraceError(f"no video named {v!r} in the project", project.folder)
    built: FaceBackend | None = None
    runs: dict[str, FaceRun] = {}
    for v in names:
        if cancel is not None and cancel.cancelled:
            break
        path = face_cache_path(project, v)
        if path.is_dir():
            with FaceCache(path, n_frames=project.videos[v].frame_count) as cache:
                runs[v] = _from_cache(v, cache, note="Aff-Wild2 cropped_aligned folder")
            continue
        if project.is_missing(v):
            runs[v] = FaceRun(video=v, cache=path, backend=backend, frames=project.videos[v].frame_count,
                              note=f"media missing: {project.media_path(v)}")
            continue
        if backend == "reference":
            be: FaceBackend = reference_for(project, v, reference)
        else:
            built = built or make_backend(backend, allow_download=allow_download)
            be = built
        runs[v] = process_video(project.media_path(v), path, be, video=v, every=every, overwrite=overwrite,
                                progress=progress_for(v) if progress_for else no_progress, cancel=cancel)
    return runs
