"""A team project's folder layout and its small files: where each annotator's lane lives, the head pointers and
JSON files read there, and the two looks at a store that need no Project (its index, its generation).

    folder/team/<annotator>/      the annotator's lane (core.project.lanes)
    folder/leases/project.lease   the short project lease for project-wide changes
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ProjectError
from ..fsio import atomic_write_bytes, open_regular, os_problem, read_regular
from ..safepaths import name_problem
from ..tracks import TrackKind
from . import storage
from .state import Key
from .storage import INDEX_NAME, TrackEntry

TEAM_DIR = "team"
LEASES_DIR = "leases"
PROJECT_LEASE = "project.lease"
LANE_LEASE = "lane.lease"
HEAD_NAME = "head.json"
ACTIVITY_NAME = "activity.json"
TAKEOVERS_NAME = "takeovers.jsonl"
MAIN = ""  # the owner name of the project's own store among the stores a Project sees


def lane_root(folder: Path, annotator: str) -> Path:
    return folder / TEAM_DIR / annotator


def project_lease_path(folder: Path) -> Path:
    return folder / LEASES_DIR / PROJECT_LEASE


def lane_names(folder: Path) -> list[str]:
    """Annotators with a lane folder (one listing: cheap enough for every poll)."""
    try:
        entries = list(os.scandir(folder / TEAM_DIR))
    except OSError:
        return []
    return sorted(e.name for e in entries if not e.name.startswith(".") and name_problem(e.name) is None
                  and e.is_dir(follow_symlinks=False))  # a link planted there is never read as a lane


def read_json(path: Path, limit: int = 1 << 24) -> dict[str, Any] | None:
    """A small JSON object file, or None when absent, unreadable or not an object."""
    if not os.path.lexists(path):
        return None
    try:
        d = json.loads(read_regular(path, ProjectError, limit=limit))
    except (ProjectError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def read_head(root: Path) -> dict[str, Any] | None:
    return read_json(root / HEAD_NAME, 65536)


def write_json(path: Path, d: dict[str, Any]) -> None:
    atomic_write_bytes(path, json.dumps(d, separators=(",", ":")).encode())


def index_generation(root: Path, name: str = INDEX_NAME) -> int | None:
    """The generation of a store's index file without reading its table (stores made before head.json)."""
    try:
        import h5py

        with h5py.File(root / name, "r", locking=False) as f:
            return int(f.attrs["generation"])
    except Exception:
        return None


def read_store(root: Path) -> dict[Key, TrackEntry] | None:
    """A store's saved tracks ({} when it has none yet); None when its index cannot be read right now (a
    save replacing it seen through a share's caches): the caller keeps what it had and asks again."""
    if not os.path.lexists(root / INDEX_NAME):
        return {}
    try:
        return dict(storage.read_index(root / INDEX_NAME).entries)
    except ProjectError:
        return None


def lane_is_reachable(root: Path) -> str | None:
    """None when the lane folder can be written now; else why not (for the offline banner)."""
    probe = root / f".probe-{os.getpid()}"
    try:
        fd = open_regular(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, error=ProjectError)
        os.close(fd)
        os.unlink(probe)
    except ProjectError as e:
        return e.problem
    except OSError as e:
        return os_problem(e)
    return None


def is_human_of(entry: TrackEntry, annotator: str) -> bool:
    return entry.source.kind == TrackKind.HUMAN and entry.source.annotator == annotator
