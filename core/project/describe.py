"""A JSON-able summary of a project for `affecttrace info PROJECT` (no track arrays are read)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..labels import TASKS


def describe(path: str | Path) -> dict[str, Any]:
    """Videos with their state, annotators, tracks with coverage, and coverage per task over the project.

    Opens read-only, so it never disturbs the process holding the project. Coverage comes from the
    index as of the last save, except for tracks the journal changed since (counted from their arrays).
    """
    from .project import open_project

    p = open_project(path, readonly=True)
    try:
        total_frames = sum(v.frame_count for v in p.videos.values())
        videos: list[dict[str, Any]] = []
        by_name: dict[str, dict[str, Any]] = {}
        task_videos = {t: 0 for t in TASKS}
        for name, v in p.videos.items():
            tracks, labelled_any = [], {t: 0 for t in TASKS}
            for tname in p.track_names(name):
                e = p.track_entry(name, tname)
                counts = e.labelled
                if p.loaded(name, tname):  # changed since the save: count the arrays themselves
                    t = p.track(name, tname)
                    counts = {task: int(t.labelled(task).sum()) for task in TASKS}
                n = max(v.frame_count, 1)
                src = e.source.to_dict()
                tracks.append({"name": tname, "kind": src["kind"], "source": src,
                               "coverage": {task: counts.get(task, 0) / n for task in TASKS}})
                agg = by_name.setdefault(tname, {task: 0 for task in TASKS})
                for task in TASKS:
                    agg[task] += counts.get(task, 0)
                    labelled_any[task] = max(labelled_any[task], counts.get(task, 0))
            for task in TASKS:
                task_videos[task] += labelled_any[task] > 0
            missing = p.is_missing(name)
            videos.append({"name": name, "state": "missing" if missing else "ok", "media": v.media,
                           "media_path": str(p.media_path(name)), "fps": v.fps, "frame_count": v.frame_count,
                           "duration_s": v.duration_s, "width": v.width, "height": v.height,
                           "has_audio": v.has_audio, "split": v.split, "subject": v.subject, "tracks": tracks})
        coverage = {task: {"videos_labelled": task_videos[task],
                           "by_track": {n: c[task] / max(total_frames, 1) for n, c in by_name.items()}}
                    for task in TASKS}
        return {"type": "project", "path": str(p.folder), "name": p.name, "au_set": p.au_set.to_dict(),
                "annotators": list(p.annotators), "n_videos": len(p.videos), "n_frames": total_frames,
                "n_missing": sum(1 for v in videos if v["state"] == "missing"),
                "n_tracks": sum(len(v["tracks"]) for v in videos), "generation": p.generation,
                "unsaved_changes": p.recovered, "lock_holder": p.lock_holder, "warnings": list(p.warnings),
                "coverage": coverage, "videos": videos}
    finally:
        p.close()
