"""Errors the user sees: each names the file and the problem in one line."""
from __future__ import annotations

from pathlib import Path


class AffectTraceError(Exception):
    """Base of every error meant for the user. ``str()`` is the one-line message."""

    def __init__(self, problem: str, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


class MediaError(AffectTraceError):
    """A video or audio file that is missing, unreadable or not what it claims."""


class LabelFileError(AffectTraceError):
    """A malformed annotation file; ``line`` is 1-based where known."""

    def __init__(self, problem: str, path: str | Path | None = None, line: int | None = None) -> None:
        self.line = line
        where = problem if line is None else f"line {line}: {problem}"
        super().__init__(where, path)


class ProjectError(AffectTraceError):
    """A project folder that cannot be opened, saved or changed."""


class ProjectLockedError(ProjectError):
    """Another process holds the project for writing."""


class CheckpointError(AffectTraceError):
    """A model checkpoint that does not fit the model or label spaces asked for."""
