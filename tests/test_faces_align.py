"""68 -> 5 point reduction and the similarity warp onto the 112x112 template."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.faces.align import (
    CROP_SIZE,
    TEMPLATE_112,
    alignment_matrix,
    five_points,
    similarity_transform,
    transform_points,
    warp_face,
)
from tests.facegen import face_at, landmarks_for, similarity


def test_five_points_are_eye_centres_nose_and_mouth_corners():
    rng = np.random.default_rng(3)
    lm = rng.uniform(0, 500, size=(68, 2))
    five = five_points(lm)
    np.testing.assert_allclose(five[0], lm[36:42].mean(0))
    np.testing.assert_allclose(five[1], lm[42:48].mean(0))
    np.testing.assert_allclose(five[2], lm[30])
    np.testing.assert_allclose(five[3], lm[48])
    np.testing.assert_allclose(five[4], lm[54])
    with pytest.raises(ValueError):
        five_points(lm[:5])


@pytest.mark.parametrize("scale,angle,shift", [(1.0, 0.0, (56, 56)), (3.2, 0.4, (400, 250)),
                                               (0.7, -1.1, (80, 300)), (5.0, np.pi * 0.9, (900, 500))])
def test_similarity_maps_known_points_exactly_onto_the_template(scale, angle, shift):
    lm, five = face_at(scale, angle, shift)
    np.testing.assert_allclose(five_points(lm), five, atol=1e-4)
    m = alignment_matrix(lm)
    np.testing.assert_allclose(transform_points(five, m), TEMPLATE_112, atol=1e-3)
    # a pure similarity: equal column norms, orthogonal columns, the inverse of the applied scale
    a = m[:, :2]
    assert abs(a[:, 0] @ a[:, 1]) < 1e-9
    np.testing.assert_allclose(np.linalg.norm(a[:, 0]), 1.0 / scale, rtol=1e-5)
    assert np.linalg.det(a) > 0


def test_least_squares_fit_of_noisy_points_is_close_and_never_reflects():
    rng = np.random.default_rng(0)
    src = similarity(TEMPLATE_112, 2.0, 0.3, (10, 20)) + rng.normal(0, 0.5, (5, 2))
    m = similarity_transform(src, TEMPLATE_112)
    assert np.abs(transform_points(src, m) - TEMPLATE_112).max() < 2.0
    mirrored = TEMPLATE_112 * [-1, 1]
    assert np.linalg.det(similarity_transform(mirrored, TEMPLATE_112)[:, :2]) > 0


def test_warp_puts_five_marked_points_on_the_template():
    lm, five = face_at(2.5, 0.35, (320, 200))
    image = np.zeros((480, 640, 3), np.uint8)
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    for (x, y), c in zip(five, colours):
        cv2.circle(image, (int(round(x)), int(round(y))), 6, c, -1, lineType=cv2.LINE_AA)
    crop = warp_face(image, lm)
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3) and crop.dtype == np.uint8
    for (tx, ty), c in zip(TEMPLATE_112, colours):
        mask = np.all(np.abs(crop.astype(int) - c) < 60, axis=2)
        ys, xs = np.nonzero(mask)
        assert len(xs) > 3, f"colour {c} not found in the crop"
        assert abs(xs.mean() - tx) < 1.0 and abs(ys.mean() - ty) < 1.0


def test_warp_keeps_channels_and_blackens_outside_the_frame():
    lm = landmarks_for(TEMPLATE_112 + [-40, -40])  # face hanging off the top-left corner
    crop = warp_face(np.full((200, 200), 200, np.uint8), lm)
    assert crop.shape == (CROP_SIZE, CROP_SIZE)
    assert crop[0, 0] == 0 and crop[-1, -1] == 200
