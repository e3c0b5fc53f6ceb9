"""Video and annotator changes of a Project (mixed into Project): add, relocate, remove, media paths."""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ProjectError
from ..safepaths import check_name
from .manifest import VideoEntry, fps_text, relative_media, resolve_media
from .state import ProjectState

if TYPE_CHECKING:
    from ..media import MediaInfo


def _require_video(media: Path) -> tuple[MediaInfo, list[str]]:
    from ..media import require_video  # lazy: PyAV loads only when media is added

    return require_video(media)


class VideoOps(ProjectState):
    """Videos and annotators of a Project: add, relocate, remove, media paths."""

    def media_path(self, video: str) -> Path:
        return resolve_media(self.folder, self._video(video).media)

    def is_missing(self, video: str) -> bool:
        return not self.media_path(video).is_file()

    def missing_videos(self) -> list[str]:
        return [v for v in self.manifest.videos if self.is_missing(v)]

    # ------------------------------------------------------------------ manifest changes

    def add_annotator(self, name: str) -> None:
        with self._mutex:
            if name in self.manifest.annotators:
                return
            self._check_writable()
            check_name(name, "annotator name", self.folder, ProjectError)
            self._record({"op": "annotators", "list": self.manifest.annotators + [name]})
            if name not in self.manifest.annotators:  # a lane's record re-reads the list it changed
                self.manifest.annotators.append(name)
            self._manifest_dirty = True
        self.videos_changed.emit()

    def add_video(self, media_path: str | Path, name: str | None = None, split: str = "train",
                  subject: str | None = None, frame_count: int | None = None,
                  fps: Any = None) -> VideoEntry:
        """Add a video; its media is probed when present. Absent media needs frame_count and fps (marked missing)."""
        self._check_writable()
        media = Path(media_path).expanduser()
        name = check_name(media.stem if name is None else name, "video name", media, ProjectError)
        check_name(split, "split", media, ProjectError)
        if name in self.manifest.videos:
            raise ProjectError(f"the project already has a video named {name!r}", media)
        rel = relative_media(self.folder, media)
        fields: dict[str, Any] = {}
        if os.path.lexists(resolve_media(self.folder, rel)):
            info, problems = _require_video(resolve_media(self.folder, rel))
            fields = dict(fps=fps_text(info.fps), frame_count=int(info.frame_count), duration_s=float(info.duration_s),
                          width=int(info.width), height=int(info.height), has_audio=bool(info.has_audio),
                          audio_rate=None if info.audio_rate is None else int(info.audio_rate), problems=problems)
        elif frame_count is None or fps is None:
            raise ProjectError("media not found; give frame_count and fps to add it as a missing video", media)
        if frame_count is not None:
            fields["frame_count"] = int(frame_count)
        if fps is not None:
            try:
                fields["fps"] = fps_text(fps)
            except (ValueError, ZeroDivisionError, TypeError) as e:
                raise ProjectError(f"bad frame rate {fps!r}: {e}", media) from e
        if "duration_s" not in fields:
            fields["duration_s"] = float(fields["frame_count"] / Fraction(fields["fps"]))
        entry = VideoEntry(name=name, media=rel, split=split, subject=subject, **fields)
        self._set_video(entry)
        return entry

    def update_video(self, entry: VideoEntry) -> None:
        """Replace a video's manifest entry (split, subject, crops, extra...). Frame count must stay."""
        self._check_writable()
        old = self._video(entry.name)
        if entry.frame_count != old.frame_count:
            raise ProjectError(f"video {entry.name!r}: frame count cannot change ({old.frame_count} -> "
                               f"{entry.frame_count}); tracks are sized to it", self.folder)
        self._set_video(entry)

    def _set_video(self, entry: VideoEntry) -> None:
        problem = entry.problem()
        if problem:
            raise ProjectError(problem, self.folder)
        with self._mutex:
            self._record({"op": "video", "name": entry.name, "entry": entry.to_dict()})
            self.manifest.videos[entry.name] = entry
            self._manifest_dirty = True
        self.videos_changed.emit()

    def relocate(self, video: str, new_path: str | Path) -> None:
        """Point a (missing or moved) video at its media's new place."""
        self._check_writable()
        entry = self._video(video)
        new = Path(new_path).expanduser()
        if not os.path.lexists(new):
            raise ProjectError("media not found", new)
        info, problems = _require_video(new)
        if info.frame_count != entry.frame_count:
            self.warnings.append(f"{new}: {info.frame_count} frames decode, the project has "
                                 f"{entry.frame_count} for video {video!r}")
        if fps_text(info.fps) != entry.fps:
            self.warnings.append(f"{new}: frame rate {fps_text(info.fps)} differs from {entry.fps} of {video!r}")
        moved = VideoEntry(**{**entry.__dict__, "media": relative_media(self.folder, new), "problems": problems})
        self._set_video(moved)

    def remove_video(self, video: str) -> None:
        """Remove a video and all its tracks."""
        self._check_writable()
        self._video(video)
        with self._mutex:
            self._record({"op": "video", "name": video, "entry": None})
            self._drop_video(video)
        self.videos_changed.emit()

    def _drop_video(self, video: str) -> None:
        self.manifest.videos.pop(video, None)
        for key in [k for k in self._entries if k[0] == video]:
            self._forget(key)
        self._manifest_dirty = True

