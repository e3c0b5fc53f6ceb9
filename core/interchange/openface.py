"""OpenFace 2.0 FeatureExtraction / FaceLandmarkVidMulti CSV files (OpenFace wiki, "Output Format").

Read: ``frame`` (1-based: row frame f is video frame f - 1), ``face_id`` (multi-face files),
``success`` (1: a face was found and fitted), ``confidence`` (0-1), ``AU<nn>_r`` (intensity 0-5),
``AU<nn>_c`` (presence 0/1), the 2-D landmarks ``x_0..x_67``/``y_0..y_67`` (pixels), pose
(``pose_T*`` in mm, ``pose_R*`` in radians) and gaze (``gaze_0_*``, ``gaze_1_*``, ``gaze_angle_*``),
``timestamp``. Dropped (listed in the report): 3-D landmarks ``X_/Y_/Z_``, eye-region landmarks
``eye_lmk_*``, shape parameters ``p_*``. Header names may start with spaces (OpenFace writes ", ").
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..labels import AU_INTENSITY_MAX, au_number
from ..weights import sha256
from .toolcsv import (
    ToolFrames,
    check_range,
    column_groups,
    duplicate_rows,
    fail,
    frame_column,
    landmark_array,
    landmark_columns,
    numeric,
    pick_faces,
    read_table,
)

TOOL = "openface"
LABEL = "OpenFace"
REQUIRED = ("frame", "success", "confidence")
_AU_R = re.compile(r"^AU(\d+)_r$")
_AU_C = re.compile(r"^AU(\d+)_c$")
KEPT_PATTERN = re.compile(r"^(pose_[TR][xyz]|gaze_[01]_[xyz]|gaze_angle_[xy]|timestamp)$")


def read_openface(path: str | Path, face_id: str | None = None) -> ToolFrames:
    """Read and validate an OpenFace CSV (module doc); one face per frame by the rule of core.interchange.toolcsv."""
    path = Path(path)
    df = read_table(path, "OpenFace")
    missing = [c for c in REQUIRED if c not in df.columns]
    au_r = [c for c in df.columns if _AU_R.match(c)]
    au_c = [c for c in df.columns if _AU_C.match(c)]
    if missing or not (au_r or au_c):
        fail(path, [f"line 1: not an OpenFace CSV: no column {', '.join(missing) or 'AU*_r / AU*_c'}"])
    lm = landmark_columns(df)
    kept = [c for c in df.columns if KEPT_PATTERN.match(c)]
    problems: list[str] = []
    num = numeric(df, list(REQUIRED) + au_r + au_c + kept + (lm[0] + lm[1] if lm else []), path, problems)
    fail(path, problems)
    frames = frame_column(num["frame"], 1, problems)
    success, conf = num["success"], num["confidence"]
    check_range("success", np.where(np.isin(success, (0, 1)), 0, 2), 0, 1, problems, "0 or 1")
    check_range("confidence", np.nan_to_num(conf, nan=-1), 0, 1, problems)
    face = success == 1
    for c in au_r:
        check_range(c, np.where(face, np.nan_to_num(num[c], nan=-1), 0), 0, AU_INTENSITY_MAX, problems)
    for c in au_c:
        check_range(c, np.where(face & ~np.isin(num[c], (0, 1)), 2, 0), 0, 1, problems, "0 or 1")
    ids = df["face_id"].astype(str).str.strip().to_numpy(object) if "face_id" in df.columns else None
    duplicate_rows(num["frame"], ids, "face_id", problems)
    fail(path, problems)
    rows, multi, rule = pick_faces(frames, conf, ids, face_id, path, problems, "face_id")
    fail(path, problems)
    landmarks = None
    if lm:
        landmarks = landmark_array(num, lm, rows)
        unfit = np.flatnonzero(face[rows] & ~np.isfinite(landmarks).all(axis=(1, 2)))
        if unfit.size:
            fail(path, [f"line {int(rows[unfit[0]]) + 2}: success is 1 but the landmarks are incomplete"])
    dropped = [c for c in df.columns
               if c not in set(REQUIRED) | set(au_r) | set(au_c) | set(kept) | {"face_id"}
               and not (lm and c in set(lm[0]) | set(lm[1]))]
    f = face[rows]
    return ToolFrames(
        tool=TOOL, path=path, sha256=sha256(path), frames=frames[rows], last_frame=int(frames.max(initial=-1)),
        rows=len(df), face=f, scores=conf[rows].astype(np.float32), landmarks=landmarks, boxes=None,
        au_presence={f"AU{au_number(c[:-2])}": num[c][rows].astype(np.int8) for c in au_c},
        au_intensity={f"AU{au_number(c[:-2])}": num[c][rows].astype(np.float32) for c in au_r},
        kept={c: num[c][rows].astype(np.float32) for c in kept},
        dropped=column_groups(dropped), multi_face_frames=multi, face_rule=rule)

