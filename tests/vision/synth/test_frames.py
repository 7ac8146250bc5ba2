"""Frame rendering: determinism, depth order, props, screens, lighting, truth boxes."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

from tests.vision.synth.clips import short_script
from vision.synth.frames import FrameRenderer, place_actors, place_prop
from vision.synth.script import Actor, Lighting, Waypoint
from vision.synth.truth import actor_boxes
from vision.types import Role

FRAMES = (0, 60, 137, 299)


def _digest(seed: int) -> list[str]:
    renderer = FrameRenderer(short_script(seed=seed))
    return [hashlib.sha256(renderer.frame(i).tobytes()).hexdigest() for i in FRAMES]


def test_same_seed_same_frames_other_seed_other_frames() -> None:
    first = _digest(3)
    assert first == _digest(3)
    other = _digest(4)
    assert all(a != b for a, b in zip(first, other, strict=True))


def test_frames_are_read_only_and_unchanged_frames_are_shared() -> None:
    script = dataclasses.replace(short_script(), actors=short_script().actors[1:])  # stander
    frames = list(FrameRenderer(script).iter_frames(75, 80))  # no slide change, no prop change
    assert all(f is frames[0] for f in frames)
    with pytest.raises(ValueError, match="read-only"):
        frames[0][0, 0, 0] = 1


@pytest.mark.parametrize(("actor_id", "frame"), [("walker", 0), ("walker", 200), ("stander", 90)])
def test_truth_box_contains_the_drawn_person(actor_id: str, frame: int) -> None:
    script = short_script()
    only = dataclasses.replace(script, actors=tuple(a for a in script.actors if a.id == actor_id))
    empty = dataclasses.replace(script, actors=())
    drawn = FrameRenderer(only).frame(frame).astype(np.int16)
    bare = FrameRenderer(empty).frame(frame).astype(np.int16)
    changed = np.abs(drawn - bare).max(axis=2) > 12
    t = np.array([frame / script.fps])
    x0, y0, x1, y1 = actor_boxes(only, t)[0, 0] * np.array([640, 360, 640, 360])
    ys, xs = np.nonzero(changed)
    # Every clearly changed pixel is inside the box (2 px of feathered edge allowed) ...
    assert xs.min() >= x0 - 2 and xs.max() < x1 + 2 and ys.min() >= y0 - 2 and ys.max() < y1 + 2
    # ... and the box is tight: the changed pixels reach its edges.
    assert xs.min() <= x0 + 3 and xs.max() >= x1 - 4 and ys.min() <= y0 + 3 and ys.max() >= y1 - 4


def test_people_are_drawn_in_front_of_props_and_by_feet_row() -> None:
    script = short_script()
    cup = place_prop(script, script.props[0])
    cx0, cy0, cx1, cy1 = cup.box(640, 360) or (0, 0, 0, 0)
    spot = ((cx0 + cx1) / 2 / 640, cy1 / 360 + 0.1)
    front = Actor(
        id="front",
        role=Role.CUSTOMER,
        sprite="bus_0",
        height_frac=0.6,
        waypoints=(Waypoint(0.0, *spot),),
    )
    back = Actor(
        id="back",
        role=Role.CUSTOMER,
        sprite="bus_1",
        height_frac=0.6,
        waypoints=(Waypoint(0.0, spot[0], spot[1] - 0.05),),
    )
    alone = dataclasses.replace(script, actors=(front,), screens=())
    both = dataclasses.replace(script, actors=(front, back), screens=())
    reversed_order = dataclasses.replace(script, actors=(back, front), screens=())
    a = FrameRenderer(alone).frame(100)
    b = FrameRenderer(both).frame(100)
    c = FrameRenderer(reversed_order).frame(100)
    np.testing.assert_array_equal(b, c)  # order comes from the feet row, not the script
    placed = place_actors(alone, np.array([4.0]))[0][0]
    assert placed is not None
    h, w = placed.sprite.shape
    opaque = placed.sprite.inv_alpha[..., 0] == 0
    region = (slice(placed.y, placed.y + h), slice(placed.x, placed.x + w))
    # Where the front person is opaque, the person behind does not show through ...
    np.testing.assert_array_equal(a[region][opaque], b[region][opaque])
    # ... but the person behind is drawn (around the front one).
    assert not np.array_equal(a, b)
    # The cup is covered by the front person at its centre.
    bare = FrameRenderer(dataclasses.replace(script, actors=(), screens=())).frame(100)
    mid = ((cy0 + cy1) // 2, (cx0 + cx1) // 2)
    assert not np.array_equal(a[mid], bare[mid])


def test_lighting_scales_the_whole_frame() -> None:
    bright = FrameRenderer(short_script()).frame(10).astype(np.float64)
    dim_script = dataclasses.replace(short_script(), lighting=Lighting(keys=((0.0, 0.8),)))
    dim = FrameRenderer(dim_script).frame(10).astype(np.float64)
    assert dim.mean() / bright.mean() == pytest.approx(0.8, abs=0.01)


def test_screen_shows_a_new_slide_each_period() -> None:
    script = dataclasses.replace(short_script(), actors=())
    x0, y0, x1, y1 = (np.array(script.screens[0].box) * [640, 360, 640, 360]).astype(int)
    renderer = FrameRenderer(script)
    slides = [renderer.frame(i)[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].copy() for i in (0, 74, 75, 150)]
    assert np.array_equal(slides[0], slides[1])
    assert not np.array_equal(slides[1], slides[2])
    assert not np.array_equal(slides[2], slides[3])


def test_frames_outside_the_script_are_refused() -> None:
    with pytest.raises(IndexError, match="cam_test"):
        FrameRenderer(short_script()).frame(300)
