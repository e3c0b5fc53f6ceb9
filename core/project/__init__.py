"""Project folders: manifest, HDF5 annotations, crash-safe edit journal, single-writer lock.

    folder/project.json      human-readable manifest (videos by relative path, AU set, annotators)
    folder/annotations.h5    index of tracks; /videos/<video>/<track> links to the arrays
    folder/tracks/           immutable HDF5 packs holding the track arrays (copy-on-write saves)
    folder/journal/          edits since the last save (replayed silently after a crash)
    folder/cache/, models/   face caches, training runs
"""
from .describe import describe
from .manifest import VideoEntry
from .project import Project, open_project, project_exists

__all__ = ["Project", "VideoEntry", "describe", "open_project", "project_exists"]
