"""Clean-scene reference: light compensation, change maps, median bootstrap, stored stills."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from pydantic import ValidationError

from vision.config.clutter import ClutterConfig
from vision.reference import (
    ReferenceError,
    ReferenceStore,
    compare,
    is_ghost,
    light_gain,
    median_reference,
    nan_median,
    person_mask,
    refresh,
    still_to_work,
    to_work_grey,
    work_shape,
)
from vision.synth.props import load_prop
from vision.types import FrameDetections

TS = datetime(2026, 3, 2, 9, tzinfo=UTC)
SHAPE = (180, 320)


def scene() -> npt.NDArray[np.uint8]:
    """A 360x640 BGR scene: a wall with a printed page over a plain counter top."""
    img = np.zeros((360, 640, 3), np.float32)
    page = cv2.resize(load_prop("document")[0].astype(np.float32), (640, 180))
    img[:180] = 150 + 0.3 * (page - page.mean())
    img[180:] = (150, 160, 175)
    return np.clip(img, 0, 255).astype(np.uint8)


def with_cup(img: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    out = img.copy()
    out[220:280, 200:280] = cv2.resize(load_prop("cup")[0], (80, 60))
    return out


def lit(img: npt.NDArray[np.uint8], gain: float, slope: float = 0.0) -> npt.NDArray[np.uint8]:
    ramp = 1 + slope * np.linspace(-0.5, 0.5, img.shape[1], dtype=np.float32)[None, :, None]
    return np.clip(img.astype(np.float32) * gain * ramp, 0, 255).astype(np.uint8)


def people(boxes: list[list[float]], class_id: int = 0) -> FrameDetections:
    n = len(boxes)
    return FrameDetections(
        xyxy=np.array(boxes, np.float32).reshape(n, 4),
        confidence=np.ones(n, np.float32),
        class_id=np.full(n, class_id, np.int32),
        track_id=np.full(n, -1, np.int64),
        keypoints=np.zeros((n, 17, 3), np.float32),
        frame_shape=(360, 640),
        camera="c1",
        frame_index=0,
        ts=TS,
    )


@pytest.mark.parametrize(
    "frame_shape, width, expected",
    [((720, 1280), 320, (180, 320)), ((576, 704), 320, (262, 320)), ((90, 160), 320, (90, 160))],
)
def test_work_shape(frame_shape: tuple[int, int], width: int, expected: tuple[int, int]) -> None:
    assert work_shape(frame_shape, width) == expected


def test_to_work_grey_range_and_shape() -> None:
    grey = to_work_grey(scene(), SHAPE)
    assert grey.shape == SHAPE and grey.dtype == np.float32
    assert 0.0 <= grey.min() and grey.max() <= 1.0


def test_nan_median_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    values = rng.random((50, 17)).astype(np.float32)
    values[rng.random(values.shape) < 0.4] = np.nan
    values[0] = np.nan
    got = nan_median(values, axis=1)
    assert np.isnan(got[0])
    np.testing.assert_allclose(got[1:], np.nanmedian(values[1:], axis=1), rtol=1e-6)


@pytest.mark.parametrize(
    "boxes, class_id, pad, covered",
    [
        ([[64, 36, 128, 108]], 0, 0.0, (slice(18, 54), slice(32, 64))),
        ([[64, 36, 128, 108]], 0, 0.5, (slice(0, 72), slice(16, 80))),
        ([[64, 36, 128, 108]], 41, 0.5, None),
        ([[-50, -50, 700, 400]], 0, 0.2, (slice(0, 180), slice(0, 320))),
    ],
)
def test_person_mask(
    boxes: list[list[float]], class_id: int, pad: float, covered: tuple[slice, slice] | None
) -> None:
    mask = person_mask(people(boxes, class_id), SHAPE, pad)
    expected = np.zeros(SHAPE, bool)
    if covered is not None:
        expected[covered] = True
    np.testing.assert_array_equal(mask, expected)


@pytest.mark.parametrize("gain, slope", [(0.6, 0.0), (1.4, 0.0), (0.8, 0.3)])
def test_light_gain_undoes_lighting(gain: float, slope: float) -> None:
    ref = to_work_grey(scene(), SHAPE)
    frame = to_work_grey(lit(with_cup(scene()), gain, slope), SHAPE)
    g = light_gain(frame, ref, np.ones(SHAPE, bool), 8)
    # Away from the cup, the corrected frame matches the reference within a few grey levels.
    away = np.ones(SHAPE, bool)
    away[100:150, 90:150] = False
    away &= ref < 0.95 / max(gain, 1.0)
    assert np.median(np.abs(frame * g - ref)[away]) < 0.01
    assert np.percentile(np.abs(frame * g - ref)[away], 95) < 0.04


@pytest.mark.parametrize("gain, slope", [(1.0, 0.0), (0.65, 0.0), (1.3, 0.0), (0.8, 0.3)])
def test_lighting_alone_is_no_change(gain: float, slope: float) -> None:
    ref = to_work_grey(scene(), SHAPE)
    frame = to_work_grey(lit(scene(), gain, slope), SHAPE)
    cmp = compare(frame, ref, np.ones(SHAPE, bool), ClutterConfig())
    assert cmp.changed.mean() < 0.002


@pytest.mark.parametrize("gain", [1.0, 0.7])
def test_placed_photo_is_change(gain: float) -> None:
    ref = to_work_grey(scene(), SHAPE)
    frame = to_work_grey(lit(with_cup(scene()), gain), SHAPE)
    cmp = compare(frame, ref, np.ones(SHAPE, bool), ClutterConfig())
    cup = np.zeros(SHAPE, bool)
    cup[110:140, 100:140] = True
    assert cmp.changed[cup].mean() > 0.8
    assert cmp.changed[~cup].mean() < 0.005
    assert not cmp.clean[cup].any()


def test_ghost_tells_removed_from_added() -> None:
    empty, cup = to_work_grey(scene(), SHAPE), to_work_grey(with_cup(scene()), SHAPE)
    region = np.zeros(SHAPE, bool)
    region[110:140, 100:140] = True
    assert is_ghost(empty, cup, region, 1.5)  # the reference holds the cup, the frame not
    assert not is_ghost(cup, empty, region, 1.5)


def test_median_reference_leaves_people_out() -> None:
    clean = to_work_grey(scene(), SHAPE)
    greys, occluded = [], []
    for i in range(5):
        frame = clean.copy()
        hidden = np.zeros(SHAPE, bool)
        hidden[20:160, 40 * i : 40 * i + 60] = True  # a person walking across
        frame[hidden] = 0.1
        greys.append(frame)
        occluded.append(hidden)
    never = np.zeros(SHAPE, bool)
    never[0:10, 300:320] = True
    occluded[0] |= never
    for o in occluded:
        o |= never
    image, known = median_reference(greys, occluded)
    np.testing.assert_allclose(image[known], clean[known], atol=1e-6)
    np.testing.assert_array_equal(known, ~never)
    with pytest.raises(ValueError, match="at least one"):
        median_reference([], [])


def test_refresh_follows_light_but_keeps_objects() -> None:
    ref = np.full(SHAPE, 0.5, np.float32)
    frame = np.full(SHAPE, 0.6, np.float32)
    clean = np.zeros(SHAPE, bool)
    clean[:, :160] = True
    gain = np.full(SHAPE, 0.5 / 0.6, np.float32)
    refresh(ref, frame, gain, clean, 0.5)
    np.testing.assert_allclose(ref[:, :160], 0.55, atol=1e-6)
    np.testing.assert_allclose(ref[:, 160:], 0.5 * (0.6 / 0.5) ** 0.5, rtol=0.01)


def test_store_round_trip(tmp_path: Path) -> None:
    store = ReferenceStore(tmp_path)
    assert store.load("b1", "cam1") is None
    img = scene()
    path = store.save("b1", "cam1", img, "still.png")
    assert path == tmp_path / "b1" / "cam1.png"
    still = store.load("b1", "cam1")
    assert still is not None
    np.testing.assert_array_equal(still.image, img)
    assert still.source == "still.png" and still.marked_at.tzinfo is not None


@pytest.mark.parametrize(
    "branch, camera, image, expectation",
    [
        ("b1", "cam1", np.zeros((10, 10, 3), np.uint8), nullcontext()),
        ("../x", "cam1", np.zeros((10, 10, 3), np.uint8), pytest.raises(ReferenceError)),
        ("b1", "a/b", np.zeros((10, 10, 3), np.uint8), pytest.raises(ReferenceError)),
        ("b1", "cam1", np.zeros((10, 10), np.uint8), pytest.raises(ReferenceError)),
        ("b1", "cam1", np.zeros((10, 10, 3), np.float32), pytest.raises(ReferenceError)),
    ],
)
def test_store_rejects_bad_input(
    tmp_path: Path,
    branch: str,
    camera: str,
    image: npt.NDArray[Any],
    expectation: AbstractContextManager[Any],
) -> None:
    with expectation:
        ReferenceStore(tmp_path).save(branch, camera, image, "x")


def test_store_names_an_unreadable_still(tmp_path: Path) -> None:
    store = ReferenceStore(tmp_path)
    store.save("b1", "cam1", scene(), "x")
    (tmp_path / "b1" / "cam1.png").write_bytes(b"not a png")
    with pytest.raises(ReferenceError, match="cam1"):
        store.load("b1", "cam1")


def test_still_to_work_checks_aspect() -> None:
    assert still_to_work(scene(), (720, 1280), SHAPE, "c1").shape == SHAPE
    with pytest.raises(ReferenceError, match="'c1'.*aspect"):
        still_to_work(scene(), (576, 704), SHAPE, "c1")


@pytest.mark.parametrize(
    "fields, expectation",
    [
        ({}, nullcontext()),
        ({"window": 8}, pytest.raises(ValidationError, match="odd")),
        ({"min_area": 0.1, "max_area": 0.05}, pytest.raises(ValidationError, match="min_area")),
        ({"labels": ["cup", "teacup"]}, pytest.raises(ValidationError, match="teacup")),
        ({"zone_labels": {"desk": ["unknown object", "cup"]}}, nullcontext()),
        ({"zone_labels": {"desk": ["mug"]}}, pytest.raises(ValidationError, match="desk")),
        ({"persistence_s": 0}, pytest.raises(ValidationError)),
        ({"threshold": 0.2}, pytest.raises(ValidationError, match="threshold")),
    ],
)
def test_config_validation(
    fields: dict[str, Any], expectation: AbstractContextManager[Any]
) -> None:
    with expectation:
        ClutterConfig(**fields)
