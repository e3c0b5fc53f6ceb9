"""What to open at start: the demo project, a project folder, or a project beside a video."""
from __future__ import annotations

import os
from pathlib import Path

from .settings import data_dir

PROJECT_SUFFIX = ".affecttrace"
DEMO_DURATION_S = 180.0


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


def ensure_demo(folder: Path | None = None, duration_s: float = DEMO_DURATION_S):
    """Open the demo project, generating it on first use (seconds)."""
    from core.demo import create_demo
    from core.project import Project

    folder = folder or demo_folder()
    duration_s = float(os.environ.get("AFFECTTRACE_DEMO_SECONDS", duration_s))  # tests make a short one
    if is_project(folder):
        return Project.open(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return create_demo(folder, duration_s=duration_s)


def open_or_create_for_video(video: Path):
    """Reopen the project beside ``video`` or create it; the video is added when new. Returns (project, name)."""
    from core.project import Project

    folder = folder_for_video(video)
    if is_project(folder):
        p = Project.open(folder)
    else:
        p = Project.create(folder, name=video.stem)
    target = video.resolve()
    for name in p.videos:
        try:
            if p.media_path(name).resolve() == target:
                return p, name
        except OSError:
            continue
    if p.readonly:
        return p, None
    entry = p.add_video(video)
    p.save()
    return p, entry.name
