from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from vision.types import FrameDetections, SampledFrame, box_iou

TS = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def make_detections(n: int, keypoints: int = 17) -> FrameDetections:
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 300, (n, 2)).astype(np.float32)
    return FrameDetections(
        xyxy=np.concatenate([xy, xy + 50], axis=1),
        confidence=rng.uniform(0.3, 1, n).astype(np.float32),
        class_id=np.zeros(n, np.int32),
        track_id=np.full(n, -1, np.int64),
        keypoints=rng.uniform(0, 300, (n, keypoints, 3)).astype(np.float32),
        frame_shape=(480, 640),
        camera="cam1",
        frame_index=3,
        ts=TS,
    )


@pytest.mark.parametrize(
    ("field", "value", "expectation"),
    [
        ("xyxy", np.zeros((2, 4), np.float32), does_not_raise()),
        ("xyxy", np.zeros((2, 3), np.float32), pytest.raises(ValueError, match="xyxy")),
        ("confidence", np.zeros(3, np.float32), pytest.raises(ValueError, match="confidence")),
        ("track_id", np.zeros((2, 1), np.int64), pytest.raises(ValueError, match="track_id")),
        ("keypoints", np.zeros((2, 17, 2), np.float32), pytest.raises(ValueError, match="keyp")),
        ("keypoints", np.zeros((2, 0, 3), np.float32), does_not_raise()),
    ],
)
def test_frame_detections_validates_shapes(
    field: str, value: Any, expectation: AbstractContextManager[Any]
) -> None:
    base = make_detections(2)
    kwargs = {f: getattr(base, f) for f in base.__dataclass_fields__}
    kwargs[field] = value
    with expectation:
        FrameDetections(**kwargs)


def test_mask_selects_all_arrays_together() -> None:
    dets = make_detections(5)
    mask = np.array([True, False, True, False, False])
    sub = dets[mask]
    assert len(sub) == 2
    np.testing.assert_array_equal(sub.xyxy, dets.xyxy[mask])
    np.testing.assert_array_equal(sub.keypoints, dets.keypoints[mask])
    assert sub.ts == dets.ts and sub.frame_shape == dets.frame_shape


def test_empty_detections_have_typed_zero_length_arrays() -> None:
    empty = FrameDetections.empty((480, 640), "cam1", 0, TS)
    assert len(empty) == 0
    assert empty.keypoints.shape == (0, 17, 3)
    assert len(empty[np.zeros(0, bool)]) == 0


def test_normalized_boxes_divide_by_frame_size() -> None:
    dets = make_detections(1)
    norm = dets.normalized_xyxy()
    np.testing.assert_allclose(norm[0, 0] * 640, dets.xyxy[0, 0], rtol=1e-5)
    np.testing.assert_allclose(norm[0, 3] * 480, dets.xyxy[0, 3], rtol=1e-5)


@pytest.mark.parametrize(
    ("ts", "image", "expectation"),
    [
        (TS, np.zeros((4, 4, 3), np.uint8), does_not_raise()),
        (datetime(2026, 1, 1), np.zeros((4, 4, 3), np.uint8), pytest.raises(ValueError)),
        (TS, np.zeros((4, 4), np.uint8), pytest.raises(ValueError, match="image")),
        (TS, np.zeros((4, 4, 3), np.float32), pytest.raises(ValueError, match="image")),
    ],
)
def test_sampled_frame_checks_time_and_image(
    ts: datetime, image: Any, expectation: AbstractContextManager[Any]
) -> None:
    with expectation:
        SampledFrame("cam1", ts, 0, image)


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_box_iou(dtype: type) -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]], dtype)
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30]], dtype)
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 0.0], [0.0, 0.0]])
    assert box_iou(a[:0], b).shape == (0, 2)
