"""The local spool: where an annotator's edits go while the project's share is away or full.

    $XDG_DATA_HOME (or ~/.local/share)/affecttrace/spool/<project>-<hash>/<annotator>.jsonl

One journal record per line, fsync'd on this workstation's own disk. The spool is emptied once its
records are in the lane's journal on the share (on reconnect, or at the next open on this host).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import ProjectError
from ..fsio import open_append, os_problem, read_regular, real_folder, remove_quietly, safe_stem, write_all


def spool_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "affecttrace" / "spool"


def project_key(folder: Path, project_id: str) -> str:
    """One spool folder per project copy: its id and where it is mounted here."""
    digest = hashlib.sha1(f"{project_id}\0{os.path.abspath(folder)}".encode()).hexdigest()[:12]
    return f"{safe_stem(folder.name, limit=40)}-{digest}"


class Spool:
    def __init__(self, folder: Path, project_id: str, annotator: str) -> None:
        self.dir = spool_home() / project_key(folder, project_id)
        self.path = self.dir / f"{safe_stem(annotator)}.jsonl"

    def append(self, rec: dict[str, Any]) -> None:
        """One record, durable on the local disk when this returns; a failure here is the user's to see."""
        line = json.dumps(rec, separators=(",", ":"), allow_nan=False).encode() + b"\n"
        real_folder(self.dir, spool_home().parent, ProjectError)
        fd = open_append(self.path, ProjectError)
        try:
            write_all(fd, line)
            os.fsync(fd)
        except OSError as e:
            raise ProjectError(f"the share is away and the local spool cannot be written either: {os_problem(e)}",
                               self.path) from e
        finally:
            os.close(fd)

    def records(self) -> list[dict[str, Any]]:
        if not os.path.lexists(self.path):
            return []
        out = []
        for line in read_regular(self.path, ProjectError).split(b"\n"):
            if line.strip():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # the line torn by a crash mid-write
                if isinstance(rec, dict) and "op" in rec:
                    out.append(rec)
        return out

    def clear(self) -> None:
        remove_quietly(self.path)
