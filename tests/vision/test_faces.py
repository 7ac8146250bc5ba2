from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from typing import Any

import numpy as np
import pytest

from tests.vision.perception_scene import asset_detections, make_detections
from vision.faces import blur_faces, face_boxes
from vision.types import Keypoint


def test_face_from_head_keypoints_contains_them() -> None:
    kp = np.zeros((1, 17, 3), np.float32)
    head = {Keypoint.NOSE: (100, 60), Keypoint.LEFT_EYE: (106, 54), Keypoint.RIGHT_EYE: (94, 54),
            Keypoint.LEFT_EAR: (114, 58), Keypoint.RIGHT_EAR: (86, 58)}  # fmt: skip
    for k, (x, y) in head.items():
        kp[0, k] = (x, y, 0.9)
    box = face_boxes(make_detections([[60, 30, 140, 300]], kp))[0]
    xs, ys = [p[0] for p in head.values()], [p[1] for p in head.values()]
    assert box[0] < min(xs) and box[2] > max(xs) and box[1] < min(ys) and box[3] > max(ys)
    side = box[2] - box[0]
    assert side == pytest.approx(box[3] - box[1])
    assert 28 * 1.2 <= side <= 80  # wider than the ear-to-ear span, narrower than the body


def test_face_without_keypoints_sits_at_the_box_top() -> None:
    box = face_boxes(make_detections([[60, 30, 140, 330]]))[0]
    assert box[1] == 30
    assert (box[0] + box[2]) / 2 == 100
    assert 0 < box[2] - box[0] <= 60  # at most 0.2 of the height, 0.6 of the width


def test_hidden_head_keypoints_fall_back_to_the_box() -> None:
    kp = np.zeros((1, 17, 3), np.float32)
    kp[0, Keypoint.NOSE] = (500, 500, 0.1)  # below the visibility threshold: ignored
    with_hidden = face_boxes(make_detections([[60, 30, 140, 330]], kp))
    without = face_boxes(make_detections([[60, 30, 140, 330]]))
    np.testing.assert_array_equal(with_hidden, without)


def test_faces_are_clipped_to_the_frame() -> None:
    box = face_boxes(make_detections([[-30, -20, 30, 200]], frame_shape=(100, 50)))[0]
    assert box[0] >= 0 and box[1] >= 0 and box[2] <= 50 and box[3] <= 100


@pytest.mark.parametrize(("photo", "people"), [("bus.jpg", [1, 2]), ("zidane.jpg", [0, 1])])
def test_faces_of_real_people(photo: str, people: list[int]) -> None:
    """The nose of each clearly seen person lies in their face box, which is a small part of
    their body box."""
    _, dets = asset_detections(photo)
    faces = face_boxes(dets)
    for i in people:
        nx, ny, _ = dets.keypoints[i, Keypoint.NOSE]
        f = faces[i]
        assert f[0] < nx < f[2] and f[1] < ny < f[3]
        body = dets.xyxy[i]
        face_area = (f[2] - f[0]) * (f[3] - f[1])
        assert face_area < 0.2 * (body[2] - body[0]) * (body[3] - body[1])


def test_blur_hides_the_region_and_nothing_else() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    before = image.copy()
    out = blur_faces(image, np.array([[40, 20, 100, 80]], np.float32))
    np.testing.assert_array_equal(image, before)  # input untouched
    inside = (slice(20, 80), slice(40, 100))
    outside = np.ones((120, 160), bool)
    outside[inside] = False
    np.testing.assert_array_equal(out[outside], image[outside])
    # 6 x 6 cells of one colour each replace the noise.
    assert len(np.unique(out[inside].reshape(-1, 3), axis=0)) <= 36
    assert out[inside].std() < image[inside].std()


def test_blur_skips_empty_and_outside_boxes() -> None:
    image = np.full((50, 50, 3), 7, np.uint8)
    boxes = np.array([[10, 10, 10, 30], [60, 60, 80, 80], [-20, -20, -5, -5]], np.float32)
    np.testing.assert_array_equal(blur_faces(image, boxes), image)


@pytest.mark.parametrize(
    ("image", "boxes", "cells", "expectation"),
    [
        (np.zeros((10, 10, 3), np.uint8), np.zeros((0, 4), np.float32), 6, does_not_raise()),
        (np.zeros((10, 10), np.uint8), np.zeros((0, 4), np.float32), 6,
         pytest.raises(ValueError, match="image")),
        (np.zeros((10, 10, 3), np.float32), np.zeros((0, 4), np.float32), 6,
         pytest.raises(ValueError, match="image")),
        (np.zeros((10, 10, 3), np.uint8), np.zeros((2, 3), np.float32), 6,
         pytest.raises(ValueError, match="boxes")),
        (np.zeros((10, 10, 3), np.uint8), np.zeros((0, 4), np.float32), 0,
         pytest.raises(ValueError, match="cells")),
    ],
)  # fmt: skip
def test_blur_bad_input(
    image: np.ndarray, boxes: np.ndarray, cells: int, expectation: AbstractContextManager[Any]
) -> None:
    with expectation:
        blur_faces(image, boxes, cells)
