"""The spelling of imported Aff-Wild2 files, kept in the project so export can reproduce them.

Stored as ``<project>/interchange/affwild2.json``: {"tracks": {track: {video: {task: FileFormat}}}}.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ProjectError
from ..fsio import atomic_write_bytes
from ..safepaths import require_file
from .labelfile import FileFormat

SIDECAR = Path("interchange") / "affwild2.json"


def load_formats(folder: Path) -> dict[str, dict[str, dict[str, FileFormat]]]:
    path = Path(folder) / SIDECAR
    if not path.exists():
        return {}
    try:
        d: dict[str, Any] = json.loads(require_file(path, ProjectError).read_text(encoding="utf-8"))
        return {t: {v: {k: FileFormat.from_dict(f) for k, f in tasks.items()} for v, tasks in vids.items()}
                for t, vids in d.get("tracks", {}).items()}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ProjectError(f"unreadable Aff-Wild2 format record: {e}", path) from e


def save_formats(folder: Path, formats: dict[str, dict[str, dict[str, FileFormat]]]) -> None:
    path = Path(folder) / SIDECAR
    path.parent.mkdir(exist_ok=True)
    d = {"tracks": {t: {v: {k: f.to_dict() for k, f in tasks.items()} for v, tasks in vids.items()}
                    for t, vids in formats.items()}}
    atomic_write_bytes(path, json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
