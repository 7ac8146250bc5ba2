"""Screens on rendered footage: measured per sample, SCREENS_OFF where a screen is off."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from rules.engine import run_rules
from rules.hours import BusinessHours, TimeRange
from rules.items.screens import ScreensOffParams
from rules.registry import RuleContext, RuleParams, registered
from vision.config import CameraConfig, ZoneConfig, ZoneKind
from vision.observe import TimelineBuilder
from vision.screens import ScreenMeasure, ScreenMeter
from vision.synth.demo import SCREEN_OFF_MIN_S, DemoScenario, demo_scenario
from vision.synth.frames import FrameRenderer
from vision.synth.script import CameraScript
from vision.timeline import ObservationTimeline
from vision.types import SampledFrame
from vision.zones import CompiledZones

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 20, 9, 30, tzinfo=TZ)
STEP_S = 5.0
OPEN_ALL_DAY = BusinessHours(open=TimeRange(start=time(0), end=time(23, 59)))


def _timeline(script: CameraScript, camera: CameraConfig) -> ObservationTimeline:
    """Sample the rendered script every STEP_S through the production timeline builder."""
    renderer = FrameRenderer(script)
    builder = TimelineBuilder("demo", camera, (script.height, script.width))
    for i, t in enumerate(np.arange(0.0, script.duration_s, STEP_S)):
        image = np.ascontiguousarray(renderer.frame(round(t * script.fps)))
        frame = SampledFrame(camera.id, script.start + timedelta(seconds=float(t)), i, image)
        builder.add(frame, None, 0.0)
    end = script.start.timestamp() + script.duration_s
    return builder.build(np.array([[script.start.timestamp(), end]]))


def _screens_off(timeline: ObservationTimeline, **params: object) -> list[object]:
    ctx = RuleContext("demo", timeline.camera, TZ, OPEN_ALL_DAY, STEP_S)
    only: dict[str, RuleParams] = {
        code: rule.params(enabled=False) for code, rule in registered().items()
    }
    only["SCREENS_OFF"] = ScreensOffParams.model_validate(
        {"min_duration_s": SCREEN_OFF_MIN_S, **params}
    )
    return list(run_rules(timeline, ctx, only))


@pytest.fixture(scope="module")
def scenario() -> DemoScenario:
    return demo_scenario(START, 600, 480, 270)


def test_switched_off_screen_is_reported_where_the_script_says(scenario: DemoScenario) -> None:
    lobby = scenario.cameras[0]
    timeline = _timeline(lobby.script, lobby.config)
    assert timeline.screen.shape == (timeline.num_samples, 1, 3)
    (truth,) = [f for f in scenario.findings if f.item == "SCREENS_OFF"]
    assert truth.expected
    events = _screens_off(timeline)
    assert len(events) == 1, events
    (event,) = events
    assert event.zone == "screen"  # type: ignore[attr-defined]
    # the slide shown before the screen goes dark is a still picture until then (frozen)
    slide = timedelta(seconds=lobby.script.screens[0].period_s)
    assert truth.start - slide <= event.start <= truth.start + timedelta(seconds=STEP_S)  # type: ignore[attr-defined]
    assert abs(event.end - truth.end) <= timedelta(seconds=STEP_S)  # type: ignore[attr-defined]
    assert event.details["state"] == "dark"  # type: ignore[attr-defined]


def test_screen_left_on_is_not_reported(scenario: DemoScenario) -> None:
    lobby = scenario.cameras[0]
    screens = tuple(dataclasses.replace(s, off=()) for s in lobby.script.screens)
    timeline = _timeline(dataclasses.replace(lobby.script, screens=screens), lobby.config)
    assert np.isfinite(timeline.screen[:, 0, ScreenMeasure.BRIGHTNESS]).all()
    assert _screens_off(timeline) == []


def test_meter_tells_dark_uniform_and_frozen_apart() -> None:
    camera = CameraConfig(
        id="c",
        zones=[ZoneConfig(id="tv", kind=ZoneKind.SCREEN, polygon=[(0, 0), (0.5, 0), (0.5, 0.5)])],
    )
    meter = ScreenMeter(CompiledZones.from_camera(camera, (40, 40)))
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 255, (40, 40, 3), np.uint8)
    first = meter.measure(picture)
    assert np.isnan(first[0, ScreenMeasure.CHANGE]) and first[0, ScreenMeasure.CONTRAST] > 30
    assert meter.measure(picture)[0, ScreenMeasure.CHANGE] == 0  # frozen
    grey = meter.measure(np.full((40, 40, 3), 128, np.uint8))[0]
    assert grey[ScreenMeasure.CONTRAST] == 0 and grey[ScreenMeasure.BRIGHTNESS] == 128
    assert meter.measure(np.zeros((40, 40, 3), np.uint8))[0, ScreenMeasure.BRIGHTNESS] == 0


def test_still_picture_counts_only_when_frozen_screens_are_checked(scenario: DemoScenario) -> None:
    lobby = scenario.cameras[0]
    screens = tuple(dataclasses.replace(s, off=(), period_s=10_000.0) for s in lobby.script.screens)
    timeline = _timeline(dataclasses.replace(lobby.script, screens=screens), lobby.config)
    frozen = _screens_off(timeline)
    assert [e.details["state"] for e in frozen] == ["frozen"]  # type: ignore[attr-defined]
    assert _screens_off(timeline, frozen_max_change=None) == []
