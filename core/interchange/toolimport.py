"""A tool's file (core.interchange.openface / pyfeat) into a project video: a read-only tool track, its tool
data (core.interchange.tooldata) and the video's face cache from the tool's landmarks.

Frame rule: OpenFace's frame f (1-based) and py-feat's frame f (0-based) are video frames f - 1 and f.
An OpenFace file must cover the video: its last frame may differ from the video's frame count by at
most FRAME_TOLERANCE frames (containers and decoders disagree by a frame or two; rows past the end are
dropped and reported). More is a file made from another video: an error. py-feat may sample frames
(``skip_frames``), so only rows past the end are checked. Frames without a row, or whose row has no face
(OpenFace success 0, py-feat no face box), are unlabelled in the track and "no face" in the cache.

Nothing is half-imported: the whole file is validated first; the face cache and tool data are written
under new names; the track is saved; only then does the new face cache replace the old one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import LabelFileError, ProjectError
from ..faces.backends import ReferenceBackend
from ..faces.backends.base import Face
from ..fsio import remove_quietly
from ..labels import AU_INTENSITY_MAX, EXPRESSIONS
from ..progress import Progress, no_progress
from ..project.incomplete import marked_incomplete
from ..safepaths import check_name, excerpt
from ..tracks import Track, TrackSource
from .toolcsv import ToolFrames
from .tooldata import INTENSITY_SUFFIX, PRESENCE_SUFFIX, PROBABILITY_SUFFIX, ToolData, drop_stale, write_tooldata

if TYPE_CHECKING:
    from ..project import Project

FRAME_TOLERANCE = 2
LABELS = {"openface": "OpenFace", "py-feat": "py-feat"}
DEFAULT_TRACK = {"openface": "openface", "py-feat": "pyfeat"}
SCORE_COLUMN = {"openface": "confidence", "py-feat": "FaceScore"}
FACE_COLUMN = {"openface": "success", "py-feat": "face"}
AU_RULE = {"openface": "AU_c (OpenFace's presence)", "py-feat": "probability >= 0.5"}


@dataclass
class ToolImport:
    tool: str
    video: str
    track: str
    frames: int  # the video's
    rows: int  # data rows in the file
    frames_with_face: int
    au_names: list[str]
    face_cache: Path | None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (f"imported {LABELS[self.tool]} {self.rows} rows into read-only track {self.track!r} of video "
                f"{self.video!r}: {self.frames_with_face} of {self.frames} frames with a face; AUs "
                f"{', '.join(self.au_names) or 'none of the project set'}")
        cache = [f"face cache from {LABELS[self.tool]}'s landmarks: {self.face_cache}"] if self.face_cache else []
        return [head] + cache + self.notes


class ToolLandmarks(ReferenceBackend):
    """A face backend that replays a tool's landmarks, boxes and scores frame by frame (for the face
    pipeline, so the crops come from the same 5-point alignment as every other backend's)."""

    detect_is_cheap = True

    def __init__(self, name: str, landmarks: np.ndarray, boxes: np.ndarray, scores: np.ndarray) -> None:
        super().__init__(landmarks, boxes)
        self.name = name
        self.scores = np.asarray(scores, np.float32)

    def detect(self, frame: np.ndarray, index: int, fine: bool = True) -> list[Face]:
        found = super().detect(frame, index, fine)
        for f in found:
            f.score = float(self.scores[index])
        return found


def _check_frames(project: Project, video: str, tf: ToolFrames) -> tuple[np.ndarray, list[str]]:
    n = project.videos[video].frame_count
    m = tf.last_frame + 1
    label = LABELS[tf.tool]
    if m > n + FRAME_TOLERANCE or (tf.tool == "openface" and m < n - FRAME_TOLERANCE):
        raise LabelFileError(f"{label} rows run to frame {m}, video {video!r} has {n} frames: made from another "
                             f"video? (up to {FRAME_TOLERANCE} frames of difference are accepted)", tf.path)
    keep = tf.frames < n
    notes = [f"{int((~keep).sum())} row(s) past the video's last frame ({n}) left out"] if not keep.all() else []
    return keep, notes


def build_track(project: Project, video: str, name: str, tf: ToolFrames, keep: np.ndarray) -> tuple[Track, ToolData]:
    """The tool track (project AU set, video length) and its tool data, from the kept rows."""
    n = project.videos[video].frame_count
    aus = project.au_set.aus
    source = TrackSource.from_tool(tf.tool, tf.sha256, file=tf.path.name, face_rule=tf.face_rule,
                                   au_rule=AU_RULE[tf.tool])
    t = Track.empty(video, name, source, n, project.au_set, with_intensity=bool(tf.au_intensity))
    fr, face = tf.frames[keep], tf.face[keep]
    at = fr[face]
    for j, a in enumerate(aus):
        if a in tf.au_presence:
            t.au[at, j] = tf.au_presence[a][keep][face]
        if a in tf.au_intensity and t.au_intensity is not None:
            t.au_intensity[at, j] = np.clip(np.rint(tf.au_intensity[a][keep][face]), 0, AU_INTENSITY_MAX)
    if tf.au_prob:
        t.au_prob = np.full((n, len(aus)), np.nan, np.float32)
        for j, a in enumerate(aus):
            if a in tf.au_prob:
                t.au_prob[at, j] = tf.au_prob[a][keep][face]
    if tf.expr_prob:
        p = np.zeros((int(face.sum()), len(EXPRESSIONS)), np.float32)  # classes the tool lacks (Other): 0
        for k, v in tf.expr_prob.items():
            p[:, EXPRESSIONS.index(k)] = v[keep][face]
        t.expr_prob = np.full((n, len(EXPRESSIONS)), np.nan, np.float32)
        t.expr_prob[at] = p
        ok = np.isfinite(p).all(axis=1)
        t.expr[at[ok]] = np.argmax(p[ok], axis=1).astype(np.int8)

    def column(values: np.ndarray, only_face: bool = True) -> np.ndarray:
        out = np.full(n, np.nan, np.float32)
        rows = face if only_face else np.ones(len(fr), bool)
        out[fr[rows]] = values[keep][rows]
        return out

    cols = {FACE_COLUMN[tf.tool]: column(tf.face.astype(np.float32), False),
            SCORE_COLUMN[tf.tool]: column(tf.scores, False)}
    for a, v in tf.au_intensity.items():
        cols[a + INTENSITY_SUFFIX] = column(v)
    for a, v in tf.au_presence.items():
        cols[a + (PRESENCE_SUFFIX if tf.tool == "openface" else "")] = column(v.astype(np.float32))
    for a, v in tf.au_prob.items():
        cols[a + PROBABILITY_SUFFIX] = column(v)
        cols.pop(a, None)  # py-feat's presence is its probability thresholded: keep the probability only
    for k, v in tf.kept.items():
        cols[k] = column(v, False)
    meta = {"tool": tf.tool, "file": str(tf.path), "sha256": tf.sha256, "rows": tf.rows, "face_rule": tf.face_rule,
            "dropped_columns": tf.dropped}
    return t, ToolData(cols, meta)


def _face_arrays(n: int, tf: ToolFrames, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lm = np.full((n, 68, 2), np.nan, np.float32)
    boxes = np.full((n, 4), np.nan, np.float32)
    scores = np.zeros(n, np.float32)
    if tf.landmarks is None:
        return lm, boxes, scores
    rows = keep & tf.face
    fr = tf.frames[rows]
    lm[fr] = tf.landmarks[rows]
    if tf.boxes is not None:
        boxes[fr] = tf.boxes[rows]
    scores[fr] = tf.scores[rows]
    return lm, boxes, scores


def _landmarks_fit(project: Project, video: str, lm: np.ndarray, path: Path) -> None:
    """A file made on another video (another frame size) puts its landmarks outside this one's frames."""
    e = project.videos[video]
    if not (e.width and e.height):
        return
    has = np.isfinite(lm).all(axis=(1, 2))
    if not has.any():
        return
    pts = lm[has]
    margin = 0.25 * max(e.width, e.height)  # faces may run off the frame's edge
    outside = ((pts[..., 0] < -margin) | (pts[..., 0] > e.width + margin) | (pts[..., 1] < -margin)
               | (pts[..., 1] > e.height + margin)).any(axis=1)
    if outside.mean() > 0.05:
        raise LabelFileError(f"landmarks of {int(outside.sum())} of {int(has.sum())} faces lie outside the "
                             f"{e.width}x{e.height} frame of video {video!r}: made from another video?", path)


def import_tool(project: Project, video: str, tf: ToolFrames, track: str | None = None, faces: bool = True,
                progress: Progress = no_progress) -> ToolImport:
    """Put a tool's file into ``video`` as a read-only tool track (see the module doc)."""
    from ..faces import face_cache_path, process_video

    if video not in project.videos:
        raise ProjectError(f"no video {excerpt(video)} in the project (see `affecttrace project` / add-video)",
                           project.folder)
    name = track or DEFAULT_TRACK[tf.tool]
    check_name(name, "track name", project.folder, ProjectError)
    if project.has_track(video, name) and project.track_source(video, name).tool is None:
        kind = project.track_source(video, name).kind.value
        raise ProjectError(f"video {video!r} already has a {kind} track {name!r}; a tool import replaces only tool "
                           "tracks (choose another --track)", project.folder)
    keep, notes = _check_frames(project, video, tf)
    t, data = build_track(project, video, name, tf, keep)
    n = t.n_frames
    lm, boxes, scores = _face_arrays(n, tf, keep)
    label = LABELS[tf.tool]
    cache_final: Path | None = None
    cache_tmp: Path | None = None
    if tf.landmarks is None:
        notes.append("no 2-D landmark columns: the face cache is left as it is")
    elif not faces:
        notes.append("face cache left as it is (--no-faces)")
    else:
        _landmarks_fit(project, video, lm, tf.path)
        cache_final = face_cache_path(project, video)
        if cache_final.is_dir():
            notes.append(f"the video's crops are an Aff-Wild2 folder ({cache_final}): no face cache written")
            cache_final = None
        elif project.is_missing(video):
            notes.append(f"media missing ({project.media_path(video)}): no face cache written; import again "
                         "when the video is found")
            cache_final = None
    if tf.multi_face_frames:
        notes.append(f"{tf.multi_face_frames} frame(s) had several faces: kept {tf.face_rule}")
    if tf.dropped:
        notes.append(f"columns not kept: {', '.join(tf.dropped)}")
    try:
        if cache_final is not None:
            cache_tmp = cache_final.with_name(f".{cache_final.name}.{tf.tool}-{os.getpid()}.tmp")
            backend = ToolLandmarks(tf.tool, lm, boxes, scores)
            run = process_video(project.media_path(video), cache_tmp, backend, video=video, every=1,
                                overwrite=True, progress=progress)
            if abs(run.frames - n) > FRAME_TOLERANCE:
                raise LabelFileError(f"video {video!r} decodes to {run.frames} frames, the project says {n}: "
                                     "check the media (`affecttrace project check`)", project.media_path(video))
        kept_path = write_tooldata(project.folder, video, name, tf.sha256, data)
        with marked_incomplete(project.folder, f"import of {label} file {tf.path.name}"):
            project.put_track(t)
            project.save()
            if cache_tmp is not None and cache_final is not None:
                os.replace(cache_tmp, cache_final)
                cache_tmp = None
        drop_stale(project.folder, video, name, kept_path)
    finally:
        if cache_tmp is not None:
            remove_quietly(cache_tmp)
    return ToolImport(tf.tool, video, name, n, tf.rows, int(tf.face[keep].sum()),
                      [a for a in project.au_set.aus if a in tf.au_presence or a in tf.au_prob], cache_final, notes)
