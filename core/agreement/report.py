"""Agreement tables of a project's human annotators: per video, per task, per annotator, with lags."""
from __future__ import annotations

import warnings
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..labels import EXPRESSIONS, TASKS, VA_NAMES
from ..metrics.continuous import ccc, pearson
from ..progress import Progress, no_progress
from ..tracks import Track, TrackKind
from .defaults import DEFAULT_MAX_LAG_S
from .fusion import majority_vote
from .lag import estimate_lags
from .stats import cohen_kappa, cronbach_alpha, fleiss_kappa, icc, krippendorff_alpha, pairwise

if TYPE_CHECKING:
    from ..project import Project


def human_tracks(project: Project, video: str) -> dict[str, Track]:
    """annotator -> human track on ``video`` (ordered as the project lists annotators)."""
    out = {}
    for t in project.tracks_of_kind(video, TrackKind.HUMAN):
        out[t.source.annotator or t.name] = t
    order = {a: i for i, a in enumerate(project.annotators)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def _labelled(tracks: dict[str, Track], task: str) -> dict[str, Track]:
    return {a: t for a, t in tracks.items() if t.labelled(task).any()}


def _nan_none(x):
    if isinstance(x, dict):
        return {k: _nan_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_nan_none(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(x)
    return x


def _matrix(names: list[str], m: np.ndarray) -> dict[str, dict[str, float]]:
    return {a: {b: float(m[i, j]) for j, b in enumerate(names) if i != j} for i, a in enumerate(names)}


def _mean_with_others(m: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an annotator with no overlap: NaN, as reported
        return np.array([np.nanmean(np.delete(row, i)) if len(row) > 1 else np.nan for i, row in enumerate(m)])


def va_table(traces: dict[str, np.ndarray]) -> dict:
    """Continuous agreement of (n, 2) VA traces keyed by annotator (NaN = unlabelled)."""
    names = list(traces)
    out: dict = {"annotators": names}
    for d, dim in enumerate(VA_NAMES):
        x = np.stack([traces[a][:, d] for a in names]).astype(np.float64)
        c, r = pairwise(x, ccc), pairwise(x, pearson)
        out[dim] = {"ccc": _matrix(names, c), "pearson": _matrix(names, r), "icc": icc(x),
                    "cronbach_alpha": cronbach_alpha(x), "krippendorff_alpha": krippendorff_alpha(x, "interval"),
                    "mean_ccc": {a: float(v) for a, v in zip(names, _mean_with_others(c))},
                    "mean_pearson": {a: float(v) for a, v in zip(names, _mean_with_others(r))}}
    return out


def discrete_table(labels: dict[str, np.ndarray]) -> dict:
    """Nominal agreement of (n,) label arrays keyed by annotator (-1 = unlabelled)."""
    names = list(labels)
    x = np.stack([labels[a] for a in names]).astype(np.int64)
    k = pairwise(x, cohen_kappa)
    return {"annotators": names, "cohen_kappa": _matrix(names, k), "fleiss_kappa": fleiss_kappa(x),
            "krippendorff_alpha": krippendorff_alpha(x, "nominal"),
            "mean_kappa": {a: float(v) for a, v in zip(names, _mean_with_others(k))}}


def au_table(tracks: dict[str, Track]) -> dict:
    names = list(tracks)
    au_names = next(iter(tracks.values())).au_names
    per = {au: discrete_table({a: tracks[a].au[:, j] for a in names}) for j, au in enumerate(au_names)}
    mean = lambda key: float(np.nanmean([p[key] for p in per.values()])) if per else float("nan")  # noqa: E731
    with np.errstate(all="ignore"):
        mean_kappa = {a: float(np.nanmean([p["mean_kappa"][a] for p in per.values()])) for a in names}
    return {"annotators": names, "fleiss_kappa": mean("fleiss_kappa"),
            "krippendorff_alpha": mean("krippendorff_alpha"), "mean_kappa": mean_kappa, "per_au": per}


def task_table(tracks: dict[str, Track], task: str) -> dict | None:
    tracks = _labelled(tracks, task)
    if len(tracks) < 2:
        return None
    if task == "va":
        return va_table({a: t.va for a, t in tracks.items()})
    if task == "expr":
        return discrete_table({a: t.expr for a, t in tracks.items()})
    return au_table(tracks)


def label_features(tracks: dict[str, Track]) -> np.ndarray | None:
    """(n, 8 + k) frame-synchronous features from the annotators' majority-voted expression (one-hot)
    and AUs; NaN rows where no label; None when nobody labelled expressions or AUs."""
    t0 = next(iter(tracks.values()))
    parts = []
    ex = [t.expr for t in tracks.values() if t.labelled("expr").any()]
    if ex:
        parts.append(_one_hot(majority_vote(np.stack(ex).astype(np.int64))))
    au = [t.au for t in tracks.values() if (t.au >= 0).any() and t.au_names == t0.au_names]
    if au:
        a = majority_vote(np.stack(au).astype(np.int64)).astype(np.float64)
        a[(a < 0).any(axis=1)] = np.nan
        parts.append(a)
    return np.concatenate(parts, axis=1) if parts else None


def video_fps(project: Project, video: str) -> float:
    return float(Fraction(project.videos[video].fps))


def reference_va(project: Project, video: str, reference: str | None) -> np.ndarray | None:
    """VA of the lag reference track ``reference`` on ``video`` (None when no such track, not a track name, or
    a track without VA, such as an OpenFace or py-feat tool track: see ``reference_features``)."""
    if reference in (None, "none") or not project.has_track(video, reference):
        return None
    va = project.track(video, reference).va
    return va if np.isfinite(va).any() else None


def reference_features(project: Project, video: str, reference: str | None) -> np.ndarray | None:
    """Frame-synchronous features of a lag reference track without VA (a tool track: OpenFace AU
    intensities, py-feat expression and AU probabilities; else its expression one-hot and AUs): the
    annotators' lags are then each trace's best linear fit on them, as with the annotators' own labels."""
    if reference in (None, "none") or not project.has_track(video, reference):
        return None
    t = project.track(video, reference)
    if np.isfinite(t.va).any():
        return None
    parts = []
    if t.expr_prob is not None:
        parts.append(t.expr_prob.astype(np.float64))
    elif (t.expr >= 0).any():
        parts.append(_one_hot(t.expr))
    au = t.au_intensity if t.au_intensity is not None else t.au_prob if t.au_prob is not None else t.au
    a = au.astype(np.float64)
    a[a < 0] = np.nan
    a = a[:, np.isfinite(a).any(axis=0)]
    if a.shape[1]:
        parts.append(a)
    if not parts:
        return None
    f = np.concatenate(parts, axis=1)
    f[~np.isfinite(f).all(axis=1)] = np.nan
    return f


def _one_hot(expr: np.ndarray) -> np.ndarray:
    one = np.zeros((len(expr), len(EXPRESSIONS)))
    one[np.arange(len(expr)), np.clip(expr, 0, len(EXPRESSIONS) - 1)] = 1.0
    one[expr < 0] = np.nan
    return one


def estimate_video_lags(tracks: dict[str, Track], fps: float, max_lag_s: float = DEFAULT_MAX_LAG_S,
                        reference: str | None = None, ref_va: np.ndarray | None = None,
                        ref_features: np.ndarray | None = None) -> dict | None:
    """Reaction lags of the VA traces of one video's annotator tracks (no project access).

    ``reference``: None (anchored on the annotators' expression/AU labels where they give a fit, else
    relative), 'none' (relative only) or a track name whose VA is ``ref_va`` (absolute against it), or,
    for a track without VA, whose frame-synchronous ``ref_features`` anchor the lags (``reference_features``).
    """
    tr = _labelled(tracks, "va")
    use_track = reference not in (None, "none")
    if not tr or (len(tr) < 2 and not use_track and reference == "none"):
        return None
    if use_track and ref_va is None and ref_features is None:
        return None
    feats = label_features(tracks) if reference is None else ref_features if ref_va is None else None
    est = estimate_lags({a: t.va for a, t in tr.items()}, fps, max_lag_s, reference=ref_va if use_track else None,
                        reference_name=reference if use_track else None, features=feats)
    return est.to_dict()


def video_agreement(tracks: dict[str, Track], fps: float, tasks: tuple[str, ...] = TASKS,
                    max_lag_s: float = DEFAULT_MAX_LAG_S, lag_reference: str | None = None,
                    ref_va: np.ndarray | None = None, ref_features: np.ndarray | None = None) -> dict:
    """One video's entry of ``agreement_report``: {task: table, 'lags': ...} of its annotator tracks
    (``human_tracks``). Touches no project, so it can run off the GUI thread on copies of the tracks.
    NaN becomes None."""
    entry: dict = {}
    for task in tasks:
        table = task_table(tracks, task)
        if table is not None:
            entry[task] = table
    if "va" in tasks:
        lags = estimate_video_lags(tracks, fps, max_lag_s, lag_reference, ref_va, ref_features)
        if lags is not None:
            entry["lags"] = lags
    return _nan_none(entry)


def agreement_report(project: Project, videos: list[str] | None = None, tasks: tuple[str, ...] = TASKS,
                     max_lag_s: float = DEFAULT_MAX_LAG_S, lag_reference: str | None = None,
                     progress: Progress = no_progress) -> dict:
    """{'videos': {video: {task: table, 'lags': ...}}, 'overall': {task: table over all frames}}.

    Tables need two annotators with labels for the task; 'overall' pools the frames of every video
    among the annotators present in all of them. NaN becomes None (JSON null).
    """
    videos = list(project.videos) if videos is None else videos
    out: dict = {"videos": {}, "overall": {}}
    pooled: dict[str, list[dict[str, Track]]] = {t: [] for t in tasks}
    for i, v in enumerate(videos):
        progress(i, len(videos), v)
        tracks = human_tracks(project, v)
        entry = video_agreement(tracks, video_fps(project, v), tasks, max_lag_s, lag_reference,
                                reference_va(project, v, lag_reference) if "va" in tasks else None,
                                reference_features(project, v, lag_reference) if "va" in tasks else None)
        for task in tasks:
            if task in entry:
                pooled[task].append(_labelled(tracks, task))
        out["videos"][v] = entry
    for task, groups in pooled.items():
        if len(groups) < 2:
            continue
        common = [a for a in groups[0] if all(a in g for g in groups)]
        if len(common) < 2:
            continue
        cat = {a: _concat([g[a] for g in groups]) for a in common}
        out["overall"][task] = task_table(cat, task)
    progress(len(videos), len(videos), "")
    return _nan_none(out)


def _concat(tracks: list[Track]) -> Track:
    t0 = tracks[0]
    return Track("all", t0.name, t0.source, t0.au_names, np.concatenate([t.va for t in tracks]),
                 np.concatenate([t.expr for t in tracks]), np.concatenate([t.au for t in tracks]))
