"""Generated OpenFace 2.0 and py-feat CSV files (in the tools' own spelling) and a one-video project to
import them into; the real files in ../shared/data/interop/pyfeat-wheel are found through INTEROP."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED_DATA
from tests.facegen import face_at

INTEROP = SHARED_DATA / "interop" / "pyfeat-wheel"
OPENFACE_AUS_R = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)
OPENFACE_AUS_C = OPENFACE_AUS_R[:-1] + (28, 45)
PYFEAT_AUS = (1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 17, 20, 23, 24, 25, 26, 28, 43)
PYFEAT_EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
VIDEO_SIZE = (320, 240)


def interop(name: str) -> Path:
    """A real file of the interop folder; the test is skipped where the folder is absent."""
    path = INTEROP / name
    if not path.exists():
        pytest.skip(f"real interop file {path} is absent")
    return path


def project_with_video(tmp: Path, n: int, name: str = "clip", au_set: str = "affwild2-12",
                       size: tuple[int, int] = VIDEO_SIZE) -> Path:
    """A project holding one generated video of ``n`` frames (``size`` = width, height) named ``name``."""
    from core.project import Project
    from tests.videogen import make_video

    media = make_video(tmp / f"{name}.mp4", n=n, fps=25, size=size)
    folder = tmp / "proj"
    p = Project.create(folder, au_set=au_set)
    p.add_video(media, name=name)
    p.save()
    p.close()
    return folder


def add_au12_annotator(folder: Path, au12: np.ndarray, video: str = "clip", name: str = "ann1") -> None:
    """An annotator labelling every AU of every frame of ``video``: AU12 as given, the others absent."""
    from core.project import Project
    from core.tracks import TrackSource

    with Project.open(folder) as p:
        t = p.new_track(video, name, TrackSource.human(name))
        t.au[:] = 0
        t.au[:, p.au_set.index("AU12")] = au12
        p.put_track(t)
        p.save()


def face_landmarks(i: int) -> np.ndarray:
    """(68, 2) landmarks of a face drifting across the frame with the frame index."""
    lm, _ = face_at(1.2, 0.05 * np.sin(i / 5), (150 + i % 20, 120 + (i % 7)), seed=i)
    return lm


def openface_rows(n: int, au12_r: np.ndarray, au12_c: np.ndarray, success: np.ndarray | None = None,
                  face_ids: int = 1) -> list[dict[str, float]]:
    """Rows of an OpenFace file over frames 1..n (``face_ids`` faces per frame, the first most confident)."""
    success = np.ones(n, int) if success is None else success
    rows = []
    for i in range(n):
        for fid in range(face_ids):
            lm = face_landmarks(i) + fid * 40
            r: dict[str, float] = {"frame": i + 1}
            if face_ids > 1:
                r["face_id"] = fid
            r.update({"timestamp": i * 0.04, "confidence": 0.98 - 0.3 * fid, "success": int(success[i])})
            r.update({f"gaze_{e}_{a}": 0.1 * (e + 1) for e in (0, 1) for a in "xyz"})
            r.update({"gaze_angle_x": 0.05, "gaze_angle_y": -0.02})
            r.update({"pose_Tx": 10.0, "pose_Ty": 20.0, "pose_Tz": 500.0 + i, "pose_Rx": 0.1, "pose_Ry": -0.2,
                      "pose_Rz": 0.01 * i})
            r.update({f"x_{k}": float(lm[k, 0]) for k in range(68)})
            r.update({f"y_{k}": float(lm[k, 1]) for k in range(68)})
            r.update({f"X_{k}": 1.0 for k in range(68)})
            r.update({f"p_{k}": 0.0 for k in range(3)})
            for a in OPENFACE_AUS_R:
                r[f"AU{a:02d}_r"] = float(au12_r[i]) if a == 12 else 0.0
            for a in OPENFACE_AUS_C:
                r[f"AU{a:02d}_c"] = int(au12_c[i]) if a == 12 else 0
            rows.append(r)
    return rows


def write_openface(path: Path, rows: list[dict[str, float]]) -> Path:
    """OpenFace's own spelling: ', ' between header names and CRLF line ends."""
    cols = list(rows[0])
    lines = [", ".join(cols)] + [",".join(_num(r[c]) for c in cols) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


def pyfeat_rows(frames: list[int], emotions: np.ndarray, au: np.ndarray, faces: int = 1) -> list[dict[str, object]]:
    """Rows of a Fex table (``faces`` rows per frame, the first with the highest FaceScore)."""
    rows = []
    for k, f in enumerate(frames):
        for j in range(faces):
            lm = face_landmarks(f) + 40 * j
            x0, y0 = lm.min(axis=0)
            x1, y1 = lm.max(axis=0)
            r: dict[str, object] = {"frame": f, "FaceRectX": x0, "FaceRectY": y0, "FaceRectWidth": x1 - x0,
                                    "FaceRectHeight": y1 - y0, "FaceScore": 0.99 - 0.2 * j}
            r.update({f"x_{i}": float(lm[i, 0]) for i in range(68)})
            r.update({f"y_{i}": float(lm[i, 1]) for i in range(68)})
            r.update({f"AU{a:02d}": float(au[k, i]) for i, a in enumerate(PYFEAT_AUS)})
            r.update({"Pitch": 1.0, "Roll": -2.0, "Yaw": 3.0})
            r.update({e: float(emotions[k, i]) for i, e in enumerate(PYFEAT_EMOTIONS)})
            r["input"] = "/Users/someone/clip.mp4"
            rows.append(r)
    return rows


def write_pyfeat(path: Path, rows: list[dict[str, object]]) -> Path:
    cols = list(rows[0])
    lines = [",".join(cols)] + [",".join(_num(r[c]) for c in cols) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _num(v: object) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)
