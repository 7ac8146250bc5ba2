"""Procedural backgrounds, slides and the gain table."""

from __future__ import annotations

import numpy as np
import pytest

from vision.synth.demo import COUNTER_LAYOUT, LOBBY_LAYOUT
from vision.synth.scene import SceneLayout, gain_lut, render_background, slide


@pytest.mark.parametrize("layout", [LOBBY_LAYOUT, COUNTER_LAYOUT], ids=["lobby", "counter"])
@pytest.mark.parametrize(("width", "height"), [(320, 180), (960, 540), (1280, 720)])
def test_background_renders_at_any_size(layout: SceneLayout, width: int, height: int) -> None:
    image = render_background(layout, width, height, seed=5)
    assert image.shape == (height, width, 3) and image.dtype == np.uint8
    # Not flat: textured wall and floor, and the floor differs from the wall.
    wall = image[int(0.06 * height) : int(0.1 * height)]
    floor = image[int(0.9 * height) :]
    assert wall.std() > 1.0 and floor.std() > 1.0
    assert abs(float(wall.mean()) - float(floor.mean())) > 3.0


def test_background_depends_only_on_the_seed() -> None:
    a = render_background(LOBBY_LAYOUT, 320, 180, seed=1)
    np.testing.assert_array_equal(a, render_background(LOBBY_LAYOUT, 320, 180, seed=1))
    assert not np.array_equal(a, render_background(LOBBY_LAYOUT, 320, 180, seed=2))


def test_slides_are_deterministic_and_vary() -> None:
    slides = [slide(7, "screen", i, (64, 36)) for i in range(8)]
    np.testing.assert_array_equal(slides[3], slide(7, "screen", 3, (64, 36)))
    assert all(s.shape == (36, 64, 3) for s in slides)
    distinct = {s.tobytes() for s in slides}
    assert len(distinct) == len(slides)
    assert not np.array_equal(slides[0], slide(7, "other", 0, (64, 36)))


@pytest.mark.parametrize(
    ("gain", "value", "expected"), [(1.0, 100, 100), (0.5, 100, 50), (2.0, 200, 255), (0.9, 0, 0)]
)
def test_gain_lut(gain: float, value: int, expected: int) -> None:
    assert int(gain_lut(gain)[value]) == expected
