"""Run a checkpoint over a project's videos (their face caches) in batches -> model tracks, and score
them against a human or fused track with the ABAW metrics."""
from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from ..data.loader import collate_batch
from ..errors import AffectTraceError
from ..labels import AU_MISSING, EXPR_MISSING, EXPRESSIONS, TASKS
from ..progress import CancelToken, Progress, no_progress
from ..tracks import Track, TrackSource
from .checkpoint import checkpoint_hash, model_from_checkpoint
from .presets import get_preset
from .run import project_labels
from .trainer import resolve_device
from .uncertainty import HeadFeatures, va_std

if TYPE_CHECKING:
    from ..project import Project


def smooth_series(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` frames ignoring NaN rows; NaN rows stay NaN."""
    if width <= 1:
        return x
    x = np.asarray(x, dtype=np.float64)
    valid = np.isfinite(x).all(axis=1)
    v = np.where(valid[:, None], x, 0.0)
    cs = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(v, axis=0)])
    cn = np.concatenate([[0], np.cumsum(valid)])
    n = len(x)
    lo = np.clip(np.arange(n) - width // 2, 0, n)
    hi = np.clip(np.arange(n) + (width - width // 2), 0, n)
    count = (cn[hi] - cn[lo])[:, None]
    out = (cs[hi] - cs[lo]) / np.maximum(count, 1)
    out[~valid] = np.nan
    return out.astype(np.float32)


def predicted(track: Track) -> np.ndarray:
    """(n,) mask of the frames a model track has any prediction for."""
    return track.labelled("va") | track.labelled("expr") | ((track.au >= 0).all(axis=1) & (track.au.shape[1] > 0))


class Predictor:
    """A loaded checkpoint: ``predict(project, video) -> Track`` (not saved; see ``predict_project``)."""

    def __init__(self, checkpoint: str | Path, device: str = "auto", batch_size: int = 64,
                 amp: bool = True) -> None:
        self.path = Path(checkpoint)
        self.device = resolve_device(device)
        self.model, self.ckpt = model_from_checkpoint(self.path, device=self.device)
        self.preset = get_preset(self.ckpt["preset"])
        self.config = self.ckpt["config"]
        self.tasks = tuple(t for t in self.config.get("tasks", TASKS) if t in TASKS)
        self.expressions = tuple(self.ckpt["labels"]["expressions"])
        self.aus = tuple(self.ckpt["labels"]["aus"])
        self.hash = checkpoint_hash(self.path)
        self.run_id = str(self.config.get("run_id") or self.path.parent.name)
        self.batch_size = batch_size
        self.head_features = HeadFeatures(self.model)
        self.channels_last = self.device.type == "cuda"
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks it
        self.autocast: Any = (torch.autocast("cuda", dtype=torch.bfloat16)
                              if amp and self.device.type == "cuda" and torch.cuda.is_bf16_supported()
                              else nullcontext())

    def check_project(self, project: Project) -> None:
        from .checkpoint import check_compatible

        check_compatible(self.ckpt, self.path, labels=project_labels(project))

    def outputs(self, project: Project, video: str, progress: Progress = no_progress,
                cancel: CancelToken | None = None) -> dict[str, np.ndarray]:
        """Raw per-frame outputs of a video: 'va' (n,2), 'va_std' (n,2) MC-dropout spread
        (core.nn.uncertainty), 'expr' (n,C) probabilities, 'au' (n,k) probabilities; NaN rows where the
        video has no face (or the run was cancelled)."""
        from torch.utils.data import DataLoader

        from ..data import face_dataset

        n = int(project.videos[video].frame_count)
        out = {"va": np.full((n, 2), np.nan, np.float32), "va_std": np.full((n, 2), np.nan, np.float32),
               "expr": np.full((n, len(self.expressions)), np.nan, np.float32),
               "au": np.full((n, len(self.aus)), np.nan, np.float32)}
        ds = face_dataset(project, None, [video], self.tasks, window=self.preset.window, audio=self.preset.audio,
                          augment=False, require_labels=False)
        try:
            if ds.skipped:
                raise AffectTraceError(f"video {video!r}: {ds.skipped.get(video, 'no face cache')}", project.folder)
            loader = DataLoader(ds, batch_size=max(1, self.batch_size // self.preset.window), shuffle=False,
                                collate_fn=collate_batch)
            done = 0
            with torch.no_grad():
                for batch in loader:
                    if cancel is not None and cancel.cancelled:
                        break
                    self._batch(batch, out)
                    done += len(batch["frame"])
                    progress(done, len(ds), video)
        finally:
            ds.close()
        return out

    def _batch(self, batch: dict[str, Any], out: dict[str, np.ndarray]) -> None:
        img = batch["image"].to(self.device)
        if self.channels_last and img.dim() == 4:
            img = img.contiguous(memory_format=torch.channels_last)
        audio = batch.get("audio")
        with self.autocast:
            res = self.model(img, None if audio is None else audio.to(self.device))
        va = res["va"].float().cpu().numpy()
        expr = torch.softmax(res["expr"].float(), -1).cpu().numpy()
        au = torch.sigmoid(res["au"].float()).cpu().numpy()
        features = self.head_features.features
        spread = va_std(self.model.get_submodule("heads"), features) if features is not None else None
        std = np.full((len(va.reshape(-1, 2)), 2), np.nan, np.float32) if spread is None else spread.cpu().numpy()
        if img.dim() == 5:  # windows: every frame of the window that has a face
            frames = batch["frames"].numpy().reshape(-1)
            face = batch["face"].numpy().reshape(-1)
            va, expr, au = va.reshape(-1, 2), expr.reshape(len(frames), -1), au.reshape(len(frames), -1)
            frames, va, std, expr, au = frames[face], va[face], std[face], expr[face], au[face]
        else:
            frames = batch["frame"].numpy()
        out["va"][frames], out["expr"][frames], out["au"][frames] = va, expr, au
        out["va_std"][frames] = std

    def to_track(self, project: Project, video: str, raw: dict[str, np.ndarray], name: str, smooth: int = 0,
                 threshold: float | None = None) -> Track:
        thr = float(self.config.get("au_threshold", 0.5) if threshold is None else threshold)
        source = TrackSource.model(self.run_id, self.hash, preset=self.preset.name, checkpoint=self.path.name,
                                   time=time.strftime("%Y-%m-%dT%H:%M:%S%z"), smooth=int(smooth),
                                   au_threshold=thr, tasks=list(self.tasks))
        n = len(raw["va"])
        track = Track.empty(video, name, source, n, tuple(project.au_set.aus))
        if "va" in self.tasks:
            track.va[:] = np.clip(smooth_series(raw["va"], smooth), -1.0, 1.0)
            if "va_std" in raw and np.isfinite(raw["va_std"]).any():
                track.va_std = smooth_series(raw["va_std"], smooth).astype(np.float32)
        if "expr" in self.tasks:
            p = smooth_series(raw["expr"], smooth)
            prob = np.full((n, len(EXPRESSIONS)), np.nan, np.float32)
            prob[:, : p.shape[1]] = p
            if p.shape[1] < len(EXPRESSIONS):  # a 7-class (ABAW 2020) model never says Other
                prob[np.isfinite(p).all(1), p.shape[1]:] = 0.0
            has = np.isfinite(p).all(axis=1)
            track.expr[:] = np.where(has, np.nan_to_num(p, nan=-1.0).argmax(1), EXPR_MISSING)
            track.expr_prob = prob
        if "au" in self.tasks:
            p = smooth_series(raw["au"], smooth)
            cols = [self.aus.index(a) for a in track.au_names]
            p = p[:, cols]
            track.au_prob = p.astype(np.float32)
            track.au[:] = np.where(np.isfinite(p), (p >= thr).astype(np.int8), AU_MISSING)
        return track


def predict_project(project: Project, checkpoint: str | Path, videos: list[str] | None = None,
                    track_name: str | None = None, smooth: int = 0, threshold: float | None = None,
                    device: str = "auto", batch_size: int = 64, save: bool = True,
                    progress_for: Callable[[str], Progress] | None = None,
                    cancel: CancelToken | None = None) -> dict[str, Track]:
    """Model tracks for ``videos`` (default: every video with a face cache), put into the project."""
    from ..faces import face_cache_path

    pred = Predictor(checkpoint, device, batch_size)
    pred.check_project(project)
    names = list(project.videos) if videos is None else list(videos)
    unknown = [v for v in names if v not in project.videos]
    if unknown:
        raise AffectTraceError(f"no video named {', '.join(map(repr, unknown))} in the project", project.folder)
    if videos is None:
        names = [v for v in names if face_cache_path(project, v).exists()]
    if not names:
        raise AffectTraceError("no video has a face cache: run `affecttrace faces PROJECT` first", project.folder)
    name = track_name or f"model-{pred.run_id}"
    tracks: dict[str, Track] = {}
    for v in names:
        progress = progress_for(v) if progress_for else no_progress
        raw = pred.outputs(project, v, progress, cancel)
        if cancel is not None and cancel.cancelled:
            break
        tracks[v] = pred.to_track(project, v, raw, name, smooth, threshold)
        if save:
            project.put_track(tracks[v])
    if save and tracks:
        project.save()
    return tracks


def evaluate_model_tracks(project: Project, pred_track: str, ref_track: str, tasks: tuple[str, ...] = TASKS,
                          videos: list[str] | None = None, abaw: int = 2022) -> dict[str, Any]:
    """ABAW scores of a model track against a human or fused track, pooled over the videos that have
    both (core.metrics.evaluate_pairs), per task."""
    from ..metrics import evaluate_pairs

    names = [v for v in (videos or list(project.videos))
             if pred_track in project.track_names(v) and ref_track in project.track_names(v)]
    if not names:
        raise AffectTraceError(f"no video has both tracks {pred_track!r} and {ref_track!r}", project.folder)
    pairs = [(project.track(v, pred_track), project.track(v, ref_track)) for v in names]
    return {t: evaluate_pairs(pairs, t, abaw) for t in tasks}
