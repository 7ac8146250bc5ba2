from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from typing import Any

import cv2
import numpy as np
import pytest

from tests.vision.perception_scene import make_detections
from vision.config import CameraConfig, ZoneConfig, ZoneKind
from vision.timeline import ZoneInfo
from vision.zones import CompiledZones, zone_infos

SHAPE = (100, 200)  # height, width
SQUARE = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]  # x 50–150, y 25–75 px
TRIANGLE = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]  # below-left of the diagonal x/200 + y/100 = 1


def camera(*zones: ZoneConfig) -> CameraConfig:
    return CameraConfig(id="lobby", zones=list(zones))


def zone(polygon: list[tuple[float, float]], anchor: str = "feet", kind: str = "lobby",
         zid: str = "z") -> ZoneConfig:  # fmt: skip
    return ZoneConfig(id=zid, kind=kind, polygon=polygon, anchor=anchor)


def nose_at(x: float, y: float, vis: float = 0.9) -> np.ndarray:
    kp = np.zeros((1, 17, 3), np.float32)
    kp[0, 0] = (x, y, vis)
    return kp


@pytest.mark.parametrize(
    ("polygon", "anchor", "box", "keypoints", "inside"),
    [
        # Feet (bottom centre) decide by default.
        (SQUARE, "feet", [90, 0, 110, 50], None, True),  # feet (100, 50)
        (SQUARE, "feet", [90, 0, 110, 90], None, False),  # feet (100, 90) below the square
        (SQUARE, "feet", [20, 10, 40, 50], None, False),  # feet (30, 50) left of it
        (SQUARE, "feet", [140, 40, 158, 60], None, True),  # feet (149, 60) just inside
        (SQUARE, "feet", [145, 40, 165, 60], None, False),  # feet (155, 60) just outside
        # Centre anchor.
        (SQUARE, "center", [90, 30, 110, 90], None, True),  # centre (100, 60)
        (SQUARE, "center", [90, 60, 110, 99], None, False),  # centre (100, 79.5)
        # Head anchor: the nose when visible, else just below the box top.
        (SQUARE, "head", [0, 0, 20, 99], nose_at(100, 50), True),
        (SQUARE, "head", [0, 0, 20, 99], nose_at(100, 50, vis=0.1), False),
        (SQUARE, "head", [90, 20, 110, 99], None, True),  # (100, 27.9)
        # A triangle, tested on both sides of its diagonal.
        (TRIANGLE, "feet", [30, 0, 50, 40], None, True),  # (40, 40): 0.2 + 0.4 < 1
        (TRIANGLE, "feet", [150, 0, 170, 40], None, False),  # (160, 40): 0.8 + 0.4 > 1
        # Feet on the frame's bottom edge (box clipped by the detector) still count.
        ([(0, 0.5), (1, 0.5), (1, 1), (0, 1)], "feet", [10, 50, 30, 100], None, True),
        # Anchors outside the frame are in no zone.
        ([(0, 0.5), (1, 0.5), (1, 1), (0, 1)], "feet", [10, 50, 30, 130], None, False),
        ([(0, 0), (1, 0), (1, 1), (0, 1)], "feet", [-40, 10, -20, 50], None, False),
    ],
)  # fmt: skip
def test_trigger_against_hand_computed_points(
    polygon: list[tuple[float, float]], anchor: str, box: list[float],
    keypoints: np.ndarray | None, inside: bool,
) -> None:  # fmt: skip
    zones = CompiledZones.from_camera(camera(zone(polygon, anchor)), SHAPE)
    dets = make_detections([box], keypoints, frame_shape=SHAPE)
    assert zones.trigger(dets).tolist() == [[inside]]


def test_mask_agrees_with_point_polygon_test() -> None:
    """The rasterised lookup and OpenCV's exact test agree away from the boundary."""
    poly = [(0.1, 0.2), (0.6, 0.05), (0.9, 0.5), (0.55, 0.95), (0.3, 0.6)]
    zones = CompiledZones.from_camera(camera(zone(poly, "center")), SHAPE)
    rng = np.random.default_rng(1)
    pts = rng.uniform([0, 0], [200, 100], (500, 2)).astype(np.float32)
    boxes = np.concatenate([pts - 1, pts + 1], axis=1)
    got = zones.trigger(make_detections(boxes, frame_shape=SHAPE))[:, 0]
    contour = (np.array(poly) * [200, 100]).astype(np.float32).reshape(-1, 1, 2)
    signed = np.array([cv2.pointPolygonTest(contour, (float(x), float(y)), True) for x, y in pts])
    clear = np.abs(signed) > 1.5
    assert clear.sum() > 400
    np.testing.assert_array_equal(got[clear], signed[clear] > 0)


def test_several_zones_and_occupancy() -> None:
    cam = camera(
        zone(SQUARE, zid="post", kind="guard_post"),
        zone([(0, 0), (1, 0), (1, 1), (0, 1)], zid="hall"),
        zone([(0.8, 0.8), (1, 0.8), (1, 1), (0.8, 1)], zid="corner", anchor="center"),
    )
    zones = CompiledZones.from_camera(cam, SHAPE)
    dets = make_detections([[90, 0, 110, 50], [10, 10, 30, 90], [170, 85, 190, 95]],
                           frame_shape=SHAPE)  # fmt: skip
    mask = zones.trigger(dets)
    assert mask.tolist() == [[True, True, False], [False, True, False], [False, True, True]]
    assert zones.occupancy(mask).tolist() == [1, 3, 1]
    assert zones.occupancy(zones.trigger(make_detections([], frame_shape=SHAPE))).tolist() == [
        0, 0, 0,
    ]  # fmt: skip
    assert zones.zone_infos() == (
        ZoneInfo("post", "guard_post"),
        ZoneInfo("hall", "lobby"),
        ZoneInfo("corner", "lobby"),
    )
    assert zones.kind_columns(ZoneKind.LOBBY).tolist() == [1, 2]
    assert zones.masks.shape == (3, 100, 200)
    assert zones.masks[0].sum() == pytest.approx(100 * 50, rel=0.05)


def test_counter_zone_keeps_its_window() -> None:
    cam = camera(ZoneConfig(id="w", kind="counter_window", window_id="3", polygon=SQUARE))
    want = (ZoneInfo("w", "counter_window", "3"),)
    assert CompiledZones.from_camera(cam, SHAPE).zone_infos() == want
    assert zone_infos(cam) == want  # without compiling any geometry


def test_camera_without_zones() -> None:
    zones = CompiledZones.from_camera(camera(), SHAPE)
    assert zones.trigger(make_detections([[0, 0, 5, 5]], frame_shape=SHAPE)).shape == (1, 0)


@pytest.mark.parametrize(
    ("frame_shape", "det_shape", "det_camera", "expectation"),
    [
        (SHAPE, SHAPE, "lobby", does_not_raise()),
        ((0, 200), SHAPE, "lobby", pytest.raises(ValueError, match="'lobby'.*frame_shape")),
        ((100.5, 200), SHAPE, "lobby", pytest.raises(ValueError, match="frame_shape")),
        ((100, 200, 3), SHAPE, "lobby", pytest.raises(ValueError, match="frame_shape")),
        (SHAPE, (200, 400), "lobby", pytest.raises(ValueError, match=r"\(200, 400\)")),
        (SHAPE, SHAPE, "vault", pytest.raises(ValueError, match="'vault'")),
    ],
)
def test_bad_input(
    frame_shape: Any, det_shape: tuple[int, int], det_camera: str,
    expectation: AbstractContextManager[Any],
) -> None:  # fmt: skip
    with expectation:
        zones = CompiledZones.from_camera(camera(zone(SQUARE)), frame_shape)
        zones.trigger(make_detections([[90, 0, 110, 50]], frame_shape=det_shape,
                                      camera=det_camera))  # fmt: skip


def test_occupancy_needs_one_column_per_zone() -> None:
    zones = CompiledZones.from_camera(camera(zone(SQUARE)), SHAPE)
    with pytest.raises(ValueError, match="'lobby'.*\\(n, 1\\)"):
        zones.occupancy(np.zeros((3, 2), bool))
