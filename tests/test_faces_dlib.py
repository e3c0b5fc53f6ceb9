"""The dlib backend on real faces (../shared/data): found in every frame of single_face.mp4, in none of
the second half of face_noface.mov (a black frame, then titles over sky)."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

pytest.importorskip("dlib")

from core.faces import FaceCache, five_points, make_backend  # noqa: E402
from core.faces.align import TEMPLATE_112, alignment_matrix, transform_points  # noqa: E402

pytestmark = pytest.mark.realdata


def _faces(argv: list[str], capsys) -> dict:
    from core.cli import faces_cmd

    parser = argparse.ArgumentParser()
    faces_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["faces", *argv, "--backend", "dlib", "--json"])
    assert args.func(args) == 0
    return json.loads(capsys.readouterr().out)


def test_face_in_every_frame_of_single_face(shared_data, tmp_path, capsys):
    out = _faces([str(shared_data / "single_face.mp4"), "--cache", str(tmp_path / "s.h5")], capsys)
    assert out["frames"] == 72 and out["frames_with_face"] == 72 and out["frames_without_face"] == []
    with FaceCache(tmp_path / "s.h5") as c:
        lm, boxes = c.landmarks, c.boxes
        assert c.all_crops().shape == (72, 112, 112, 3)
    # one man, barely moving: the tracked face stays in one place and its 5 points warp onto the template
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    assert np.ptp(centres, axis=0).max() < 60
    inter_ocular = np.linalg.norm(five_points(lm[0])[1] - five_points(lm[0])[0])
    assert 40 < inter_ocular < 150
    for k in (0, 40, 71):
        warped = transform_points(five_points(lm[k]), alignment_matrix(lm[k]))
        assert np.abs(warped - TEMPLATE_112).max() < 6.0


def test_no_face_in_the_second_half_of_face_noface(shared_data, tmp_path, capsys):
    out = _faces([str(shared_data / "face_noface.mov"), "--cache", str(tmp_path / "n.h5")], capsys)
    n = out["frames"]
    assert n == 169
    missing = set(out["frames_without_face"])
    assert set(range(n // 2, n)) <= missing
    assert out["frames_with_face"] >= 60  # the man is there for the first ~70 frames
    assert all(i not in missing for i in range(0, 60))


def test_detector_finds_one_face_in_still_images(shared_data):
    import cv2

    backend = make_backend("dlib")
    for name in ("single_face.jpg", "0-f1-su-ph.jpg", "0-f15-hao-ph.jpg"):
        img = cv2.cvtColor(cv2.imread(str(shared_data / name)), cv2.COLOR_BGR2RGB)
        faces = backend.detect(img, 0)
        assert len(faces) == 1, name
        x0, y0, x1, y1 = faces[0].box
        inside = (faces[0].landmarks[:, 0] > x0 - 0.3 * (x1 - x0)) & (faces[0].landmarks[:, 0] < x1 + 0.3 * (x1 - x0))
        assert inside.all()
