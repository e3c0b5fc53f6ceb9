"""py-feat ``Fex`` tables saved as CSV (``Detector.detect_image``/``detect_video`` results, ``Fex.to_csv``).

Read: ``frame`` (0-based video frame), the face box ``FaceRectX/Y/Width/Height`` and ``FaceScore``, the
68 landmarks ``x_0..x_67``/``y_0..y_67``, AU probabilities ``AU01``..``AU43`` (0-1), the seven emotion
probabilities ``anger disgust fear happiness sadness surprise neutral`` (mapped to the expression
classes by core.labels' concept table; Other gets 0, py-feat has no such class), head pose
``Pitch/Roll/Yaw`` (degrees), ``approx_time``, and ``Identity`` for the multi-face rule. Dropped (listed
in the report): ``input`` (a path on the machine that ran py-feat), identity embeddings and any
other column. A row without a face box is a frame where py-feat found no face.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..labels import EXPRESSIONS, au_number, expression_concept
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

TOOL = "py-feat"
LABEL = "py-feat"
BOX = ("FaceRectX", "FaceRectY", "FaceRectWidth", "FaceRectHeight")
EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
KEPT = BOX + ("FaceScore", "Pitch", "Roll", "Yaw", "approx_time")
_AU = re.compile(r"^AU(\d+)$")


def read_pyfeat(path: str | Path, face_id: str | None = None) -> ToolFrames:
    """Read and validate a py-feat Fex CSV (module doc); one face per frame by core.interchange.toolcsv's rule."""
    path = Path(path)
    df = read_table(path, "py-feat Fex")
    aus = [c for c in df.columns if _AU.match(c)]
    emotions = [c for c in EMOTIONS if c in df.columns]
    missing = [c for c in ("frame",) + BOX + ("FaceScore",) if c not in df.columns]
    if missing or not (aus or emotions):
        fail(path, [f"line 1: not a py-feat Fex CSV: no column {', '.join(missing) or 'AU* or emotions'}"])
    lm = landmark_columns(df)
    kept = [c for c in KEPT if c in df.columns]
    problems: list[str] = []
    num = numeric(df, ["frame"] + kept + aus + emotions + (lm[0] + lm[1] if lm else []), path, problems)
    fail(path, problems)
    frames = frame_column(num["frame"], 0, problems)
    box = np.stack([num[c] for c in BOX], axis=1)
    face = np.isfinite(box).all(axis=1) & np.isfinite(num["FaceScore"])
    check_range("FaceScore", np.where(face, num["FaceScore"], 0), 0, 1, problems)
    for c in aus + emotions:
        check_range(c, np.where(face, np.nan_to_num(num[c], nan=0), 0), 0, 1, problems, "a probability in [0, 1]")
    ids = df["Identity"].astype(str).str.strip().to_numpy(object) if "Identity" in df.columns else None
    if ids is not None:
        duplicate_rows(num["frame"], ids, "Identity", problems)
    else:  # several faces share a frame; the same face twice (same box) is a duplicate row
        duplicate_rows(num["frame"], np.array([",".join(f"{v:.3f}" for v in b) for b in box], object),
                       "face box", problems)
    fail(path, problems)
    rows, multi, rule = pick_faces(frames, np.where(face, num["FaceScore"], -np.inf), ids, face_id, path, problems,
                                   "Identity")
    fail(path, problems)
    f = face[rows]
    x0, y0, w, h = (box[rows, j] for j in range(4))
    landmarks = None
    if lm:
        landmarks = landmark_array(num, lm, rows)
    expr = {}
    for c in emotions:
        concept = expression_concept(c)
        if concept in EXPRESSIONS:
            expr[concept] = num[c][rows].astype(np.float32)
    au_prob = {f"AU{au_number(c)}": num[c][rows].astype(np.float32) for c in aus}
    dropped = [c for c in df.columns if c not in set(kept) | set(aus) | set(emotions) | {"frame", "Identity"}
               and not (lm and c in set(lm[0]) | set(lm[1]))]
    return ToolFrames(
        tool=TOOL, path=path, sha256=sha256(path), frames=frames[rows], last_frame=int(frames.max(initial=-1)),
        rows=len(df), face=f, scores=num["FaceScore"][rows].astype(np.float32), landmarks=landmarks,
        boxes=np.stack([x0, y0, x0 + w, y0 + h], axis=1).astype(np.float32),
        au_presence={a: np.where(np.isfinite(p), p >= 0.5, -1).astype(np.int8) for a, p in au_prob.items()},
        au_prob=au_prob, expr_prob=expr, kept={c: num[c][rows].astype(np.float32) for c in kept},
        dropped=column_groups(dropped), multi_face_frames=multi, face_rule=rule)
