"""Fused gold-standard tracks of a project: VA by mean or EWE (optionally lag-compensated), EXPR and
AU by majority vote. The track records its recipe (TrackSource.fused) and is written with put_track."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ProjectError
from ..progress import Progress, no_progress
from ..tracks import Track, TrackKind, TrackSource
from ..words import FUSED_TRACK
from .defaults import DEFAULT_MAX_LAG_S
from .fusion import ewe_fusion, majority_vote, mean_fusion
from .lag import shift
from .report import _labelled, estimate_video_lags, human_tracks, reference_features, reference_va, video_fps
from .stats import cohen_kappa, pairwise

if TYPE_CHECKING:
    from ..project import Project

METHODS = ("mean", "ewe", "vote")


def method_tasks(method: str) -> dict[str, str]:
    """Task -> fusion used for a --method: mean/ewe fuse VA that way and EXPR/AU by vote; vote only EXPR/AU."""
    if method not in METHODS:
        raise ValueError(f"unknown fusion method {method!r}; expected one of {', '.join(METHODS)}")
    return {"expr": "vote", "au": "vote"} if method == "vote" else {"va": method, "expr": "vote", "au": "vote"}


def _kappa_weights(labels: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        k = np.nanmean(pairwise(labels, cohen_kappa), axis=1)
    return np.where(np.isfinite(k), np.clip(k, 0, None), 0.0)


def fuse_video(project: Project, video: str, method: str, tasks: tuple[str, ...] | None = None,
               lag_compensate: bool = False, max_lag_s: float = DEFAULT_MAX_LAG_S, lag_reference: str | None = None,
               name: str = FUSED_TRACK) -> dict | None:
    """Fuse the human tracks of one video into track ``name``; returns its recipe, None without annotators."""
    made = fused_track(project, video, method, tasks, lag_compensate, max_lag_s, lag_reference, name)
    if made is None:
        return None
    project.put_track(made[0])
    return made[1]


@dataclass(frozen=True)
class FusionInputs:
    """What fusing one video reads from its project, so the fusion itself (``fuse_tracks``) can run on
    copies away from the project (the app runs it off the GUI thread)."""

    video: str
    name: str  # the fused track's name
    tracks: dict[str, Track]  # annotator -> human track
    base: Track  # the fused track so far (its labels stay for tasks not fused this time), or an empty one
    fps: float
    ref_va: np.ndarray | None  # VA of the lag reference track, when one is named
    folder: Path  # for messages
    ref_features: np.ndarray | None = None  # features of a lag reference track without VA (a tool track)

    def copy(self) -> "FusionInputs":
        return replace(self, tracks={a: t.copy() for a, t in self.tracks.items()}, base=self.base.copy(),
                       ref_va=None if self.ref_va is None else self.ref_va.copy(),
                       ref_features=None if self.ref_features is None else self.ref_features.copy())


def fusion_inputs(project: Project, video: str, lag_reference: str | None = None,
                  name: str = FUSED_TRACK) -> FusionInputs:
    """Read what fusing ``video`` into track ``name`` needs (refuses to overwrite a track that is not fused)."""
    tracks = human_tracks(project, video)
    if project.has_track(video, name):
        base = project.track(video, name)
        if base.source.kind != TrackKind.FUSED:
            raise ProjectError(f"video {video!r} has a {base.source.kind.value} track {name!r}; "
                               "fusion will not overwrite it (choose another --name)", project.folder)
    else:
        base = Track.empty(video, name, TrackSource.fused(), project.videos[video].frame_count, project.au_set)
    return FusionInputs(video, name, tracks, base, video_fps(project, video),
                        reference_va(project, video, lag_reference), Path(project.folder),
                        reference_features(project, video, lag_reference))


def fused_track(project: Project, video: str, method: str, tasks: tuple[str, ...] | None = None,
                lag_compensate: bool = False, max_lag_s: float = DEFAULT_MAX_LAG_S, lag_reference: str | None = None,
                name: str = FUSED_TRACK) -> tuple[Track, dict] | None:
    """The fused track ``name`` of one video and its recipe, computed but not written; None without
    annotators. Tasks not fused this time keep the existing fused track's labels."""
    return fuse_tracks(fusion_inputs(project, video, lag_reference, name), method, tasks, lag_compensate,
                       max_lag_s, lag_reference)


def fuse_tracks(inp: FusionInputs, method: str, tasks: tuple[str, ...] | None = None, lag_compensate: bool = False,
                max_lag_s: float = DEFAULT_MAX_LAG_S, lag_reference: str | None = None) -> tuple[Track, dict] | None:
    """The fusion itself (`affecttrace fuse` and the app's agreement panel both come here): VA by mean
    or EWE, optionally lag-compensated; expressions by kappa-weighted vote; AUs by vote."""
    plan = {t: m for t, m in method_tasks(method).items() if tasks is None or t in tasks}
    tracks, video = inp.tracks, inp.video
    if not tracks:
        return None
    fused, recipe = inp.base.copy(), dict(inp.base.source.recipe)
    methods = dict(recipe.get("methods", {}))
    if "va" in plan:
        tr = _labelled(tracks, "va")
        if tr:
            lags = {a: 0 for a in tr}
            if lag_compensate:
                est = estimate_video_lags(tracks, inp.fps, max_lag_s, lag_reference, inp.ref_va, inp.ref_features)
                if est is not None:
                    lags = est["lags_frames"]
                    recipe["lags_s"] = est["lags_s"]
                    recipe["lag_relative"] = est["relative"]
                    recipe["lag_basis"] = est["basis"]
                    recipe["lag_reference"] = lag_reference
                    recipe["max_lag_s"] = max_lag_s
            else:
                for k in ("lags_s", "lag_relative", "lag_basis", "lag_reference", "max_lag_s"):
                    recipe.pop(k, None)
            x = np.stack([shift(t.va, lags[a]) for a, t in tr.items()]).astype(np.float64)
            if plan["va"] == "ewe":
                va, w = ewe_fusion(x)
                recipe["ewe_weights"] = {dim: {a: float(w[i, d]) for i, a in enumerate(tr)}
                                         for d, dim in enumerate(("valence", "arousal"))}
            else:
                va = mean_fusion(x)
                recipe.pop("ewe_weights", None)
            va[np.isnan(va).any(axis=1)] = np.nan
            fused.va[:] = va.astype(np.float32)
            methods["va"] = plan["va"]
            recipe["va_annotators"] = list(tr)
    if "expr" in plan:
        tr = _labelled(tracks, "expr")
        if tr:
            lab = np.stack([t.expr for t in tr.values()]).astype(np.int64)
            fused.expr[:] = majority_vote(lab, _kappa_weights(lab)).astype(np.int8)
            methods["expr"] = "vote"
            recipe["expr_annotators"] = list(tr)
    if "au" in plan:
        tr = {a: t for a, t in tracks.items() if (t.au >= 0).any()}
        if tr:
            cols = [tuple(t.au_names) for t in tr.values()]
            if any(c != tuple(fused.au_names) for c in cols):
                raise ProjectError(f"video {video!r}: annotator tracks differ in AU columns", inp.folder)
            lab = np.stack([t.au for t in tr.values()]).astype(np.int64)
            fused.au[:] = majority_vote(lab).astype(np.int8)
            methods["au"] = "vote"
            recipe["au_annotators"] = list(tr)
    recipe["methods"] = methods
    recipe = {k: v for k, v in recipe.items() if v is not None}
    return Track(video, inp.name, TrackSource.fused(**recipe), fused.au_names, fused.va, fused.expr, fused.au), recipe


def fuse_project(project: Project, method: str = "ewe", tasks: tuple[str, ...] | None = None,
                 lag_compensate: bool = False, max_lag_s: float = DEFAULT_MAX_LAG_S, lag_reference: str | None = None,
                 name: str = FUSED_TRACK, videos: list[str] | None = None,
                 progress: Progress = no_progress) -> dict[str, dict]:
    """Fuse every video (or those named) and save the project; video -> recipe."""
    method_tasks(method)
    videos = list(project.videos) if videos is None else videos
    out = {}
    for i, v in enumerate(videos):
        progress(i, len(videos), v)
        r = fuse_video(project, v, method, tasks, lag_compensate, max_lag_s, lag_reference, name)
        if r is not None:
            out[v] = r
    progress(len(videos), len(videos), "")
    if out:
        project.save()
    return out
