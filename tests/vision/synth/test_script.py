"""Validation and motion of camera scripts."""

from __future__ import annotations

import dataclasses
import math
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from tests.vision.synth.clips import START, short_script
from vision.synth.script import (
    Actor,
    Lighting,
    Prop,
    Screen,
    ScriptError,
    Waypoint,
    in_intervals,
)
from vision.types import Role

DoesNotRaise = nullcontext


def _actor(**change: Any) -> Actor:
    fields: dict[str, Any] = dict(
        id="a",
        role=Role.CUSTOMER,
        sprite="bus_0",
        height_frac=0.5,
        waypoints=(Waypoint(0.0, 0.2, 0.8), Waypoint(10.0, 0.8, 0.9)),
    )
    fields.update(change)
    return Actor(**fields)


@pytest.mark.parametrize(
    ("change", "expectation"),
    [
        ({}, DoesNotRaise()),
        ({"sprite": "nobody"}, pytest.raises(ScriptError, match="actor 'a': unknown sprite")),
        ({"height_frac": 3.0}, pytest.raises(ScriptError, match="height_frac")),
        ({"waypoints": ()}, pytest.raises(ScriptError, match="at least one waypoint")),
        (
            {"waypoints": (Waypoint(5.0, 0, 0), Waypoint(1.0, 0, 0))},
            pytest.raises(ScriptError, match="time order"),
        ),
        ({"visible": ((5.0, 2.0),)}, pytest.raises(ScriptError, match="visible")),
        ({"uniform_bgr": (0, 300, 0)}, pytest.raises(ScriptError, match="uniform_bgr")),
    ],
)
def test_actor_validation(
    change: dict[str, Any],
    expectation: AbstractContextManager[Any],
) -> None:
    with expectation:
        _actor(**change)


@pytest.mark.parametrize(
    ("change", "expectation"),
    [
        ({}, DoesNotRaise()),
        ({"start": datetime(2026, 3, 2, 9, 30)}, pytest.raises(ScriptError, match="timezone")),
        ({"width": 641}, pytest.raises(ScriptError, match="even")),
        ({"duration_s": 0.0}, pytest.raises(ScriptError, match="duration_s")),
        ({"gaps": ((3.0, 4.0), (3.5, 5.0))}, pytest.raises(ScriptError, match="gaps")),
        ({"gaps": ((10.0, 20.0),)}, pytest.raises(ScriptError, match="within")),
        ({"depth_scale": 1.0}, pytest.raises(ScriptError, match="depth_scale")),
        ({"actors": (_actor(), _actor())}, pytest.raises(ScriptError, match="actor ids")),
    ],
)
def test_camera_script_validation(
    change: dict[str, Any], expectation: AbstractContextManager[Any]
) -> None:
    with expectation as raised:
        dataclasses.replace(short_script(), **change)
    if raised is not None:
        assert "cam_test" in str(raised.value)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Prop(id="p", image="piano", box=(0.1, 0.1, 0.2, 0.2)), "unknown image"),
        (lambda: Prop(id="p", image="cup", box=(0.3, 0.1, 0.2, 0.2)), "box"),
        (lambda: Prop(id="p", image="cup", box=(0.1, 0.1, 0.2, 0.2), t0=5, t1=5), "t0"),
        (lambda: Screen(id="s", box=(0.1, 0.1, 0.2, 1.2)), "box"),
        (lambda: Screen(id="s", box=(0.1, 0.1, 0.2, 0.2), period_s=0), "period_s"),
        (lambda: Lighting(keys=((5.0, 1.0), (1.0, 1.0))), "time order"),
        (lambda: Lighting(keys=((0.0, 9.0),)), "gains"),
    ],
)
def test_prop_screen_and_lighting_validation(make: Any, match: str) -> None:
    with pytest.raises(ScriptError, match=match):
        make()


def test_actor_walks_linearly_between_waypoints_and_waits_at_the_ends() -> None:
    actor = _actor()
    xy = actor.positions(np.array([-5.0, 0.0, 5.0, 10.0, 20.0]))
    np.testing.assert_allclose(xy, [[0.2, 0.8], [0.2, 0.8], [0.5, 0.85], [0.8, 0.9], [0.8, 0.9]])


def test_visibility_intervals_are_half_open() -> None:
    t = np.array([0.0, 0.99, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(in_intervals(t, ((1.0, 3.0),)), [0, 0, 1, 1, 0])
    actor = _actor(visible=((0.0, 1.0), (2.0, math.inf)))
    np.testing.assert_array_equal(actor.shown(t), [1, 1, 0, 1, 1])


def test_lighting_interpolates_and_holds() -> None:
    light = Lighting(keys=((10.0, 1.0), (20.0, 0.8)))
    np.testing.assert_allclose(light.gain(np.array([0.0, 15.0, 30.0])), [1.0, 0.9, 0.8])
    np.testing.assert_allclose(Lighting().gain(np.array([0.0, 99.0])), [1.0, 1.0])


def test_script_token_and_frames() -> None:
    script = short_script()
    assert script.token == "07"
    assert script.frame_count == 300
    assert dataclasses.replace(script, channel=None).token == "cam_test"
    assert script.start == START
