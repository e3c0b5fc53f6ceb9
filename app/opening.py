"""What to open at start: the demo project, a project folder, or a project beside a video."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import AffectTraceError

from .settings import data_dir

if TYPE_CHECKING:
    from core.project import Project

PROJECT_SUFFIX = ".affecttrace"
DEMO_DURATION_S = 180.0
VIDEO_FILTER = "Video (*.mp4 *.mov *.avi *.mkv *.ts *.m2ts *.webm *.mpg *.mpeg *.wmv *.flv);;All files (*)"


def is_project(path: Path) -> bool:
    return (path / "project.json").is_file() or (path.name == "project.json" and path.is_file())


def project_folder(path: Path) -> Path:
    return path.parent if path.name == "project.json" else path


def folder_for_video(video: Path) -> Path:
    """The project folder made beside a video: ``clip.mp4`` -> ``clip.affecttrace/``; where the video's
    folder is read-only (a shared data set), under the per-user data folder instead."""
    beside = video.resolve().parent / f"{video.stem}{PROJECT_SUFFIX}"
    if beside.exists() or os.access(beside.parent, os.W_OK):
        return beside
    return data_dir() / "projects" / beside.name


def demo_folder() -> Path:
    return data_dir() / "demo"


def demo_seconds(duration_s: float = DEMO_DURATION_S) -> float:
    """How long a demo made now is (AFFECTTRACE_DEMO_SECONDS: tests make a short one)."""
    return float(os.environ.get("AFFECTTRACE_DEMO_SECONDS", duration_s))


def ensure_demo(folder: Path | None = None, duration_s: float = DEMO_DURATION_S) -> "Project":
    """Open the demo project, generating it on first use (seconds)."""
    from core.demo import create_demo
    from core.project import Project

    folder = folder or demo_folder()
    duration_s = demo_seconds(duration_s)
    if is_project(folder):
        return Project.open(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return create_demo(folder, duration_s=duration_s)


def check_media(video: Path) -> list[str]:
    """Raise MediaError (one line naming the file) unless ``video`` is a video the app can play; nothing
    is created. The checks are core.media's (not a regular file, empty, a still image, not decodable).
    Returns the problems of a usable but damaged file (e.g. fewer frames decode than the header says)."""
    from core.media import require_video

    return require_video(video)[1]


def open_or_create_for_video(video: Path) -> tuple["Project", str | None]:
    """Reopen the project beside ``video`` or create it; the video is added when new. Returns (project, name).

    The media is checked before anything is created; a project folder made here is removed again when
    adding the video fails, so nothing is left behind.
    """
    from core.project import Project

    folder = folder_for_video(video)
    made = not is_project(folder)
    if made:
        check_media(video)
        existed = folder.exists()
        p = Project.create(folder, name=video.stem)
    else:
        p = Project.open(folder)
    target = video.resolve()
    for name in p.videos:
        try:
            if p.media_path(name).resolve() == target:
                return p, name
        except OSError:
            continue
    if p.readonly:
        return p, None
    try:
        entry = p.add_video(video)
        p.save()
    except AffectTraceError:
        p.close()
        if made and not existed:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return p, entry.name
