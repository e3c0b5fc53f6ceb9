"""Fit a track to a video's frame count and a project's AU set (importers meet a few frames' mismatch)."""
from __future__ import annotations

import numpy as np

from ..tracks import Track


def conform_track(track: Track, n_frames: int, au_names: tuple[str, ...] | list[str]) -> Track:
    """A copy of ``track`` padded (unlabelled) or cut to ``n_frames``, with AU columns mapped by name.

    AUs the track lacks become unlabelled columns; AUs the project lacks are dropped.
    """
    au_names = tuple(au_names)
    out = Track.empty(track.video, track.name, track.source, n_frames, au_names,
                      with_intensity=track.au_intensity is not None)
    m = min(n_frames, track.n_frames)
    out.va[:m] = track.va[:m]
    out.expr[:m] = track.expr[:m]
    cols = [(j, track.au_names.index(a)) for j, a in enumerate(au_names) if a in track.au_names]
    for j, src in cols:
        out.au[:m, j] = track.au[:m, src]
        if track.au_intensity is not None and out.au_intensity is not None:
            out.au_intensity[:m, j] = track.au_intensity[:m, src]
    if track.expr_prob is not None:
        out.expr_prob = np.full((n_frames, track.expr_prob.shape[1]), np.nan, np.float32)
        out.expr_prob[:m] = track.expr_prob[:m]
    if track.va_std is not None:
        out.va_std = np.full((n_frames, 2), np.nan, np.float32)
        out.va_std[:m] = track.va_std[:m]
    if track.au_prob is not None:
        out.au_prob = np.full((n_frames, len(au_names)), np.nan, np.float32)
        for j, src in cols:
            out.au_prob[:m, j] = track.au_prob[:m, src]
    return out
