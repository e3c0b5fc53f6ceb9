"""Choosing the track of a project video that a command works on (export, evaluate, agreement)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ProjectError
from ..tracks import Track, TrackKind
from ..words import FUSED_TRACK

if TYPE_CHECKING:
    from ..project import Project

IMPORTED_TRACK = "affwild2"  # the name Aff-Wild2 labels get on import


def find_track_name(project: Project, video: str, track: str | None = None, annotator: str | None = None,
                    fused: bool = False) -> str | None:
    """The name of the wanted track on ``video`` or None where the video lacks it.

    ``track``: that name; ``annotator``: the human track of that annotator; ``fused``: the track named
    'fused', else the only fused track. With none given: 'affwild2' where present, else the only track.
    """
    names = project.track_names(video)
    if track is not None:
        return track if track in names else None
    if annotator is not None:
        for n in names:
            src = project.track_source(video, n)
            mine = src.annotator == annotator or (src.annotator is None and n == annotator)
            if src.kind == TrackKind.HUMAN and mine:
                return n
        return None
    if fused:
        if FUSED_TRACK in names:
            return FUSED_TRACK
        f = [n for n in names if project.track_source(video, n).kind == TrackKind.FUSED]
        return f[0] if len(f) == 1 else None
    if IMPORTED_TRACK in names:
        return IMPORTED_TRACK
    return names[0] if len(names) == 1 else None


def pick_tracks(project: Project, videos: list[str] | None = None, track: str | None = None,
                annotator: str | None = None, fused: bool = False) -> dict[str, Track]:
    """video -> chosen Track for every video that has one; ProjectError when none has."""
    out: dict[str, Track] = {}
    for v in videos if videos is not None else list(project.videos):
        name = find_track_name(project, v, track, annotator, fused)
        if name is not None:
            out[v] = project.track(v, name)
    if not out:
        what = (f"track {track!r}" if track else f"annotator {annotator!r}" if annotator
                else "fused track" if fused else "default track ('affwild2' or a video's only track)")
        raise ProjectError(f"no video has the {what}; choose one with --track/--annotator/--fused", project.folder)
    return out
