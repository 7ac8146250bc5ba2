"""Integer alpha blending of sprites."""

from __future__ import annotations

import numpy as np
import pytest

from vision.synth.sprite import Sprite, blend_sprite, to_sprite


def _solid(value: int, h: int = 4, w: int = 6) -> Sprite:
    return to_sprite(np.full((h, w, 3), value, np.uint8), np.ones((h, w), np.float32), (w // 2, h))


@pytest.mark.parametrize(("alpha", "expected"), [(1.0, 200), (0.0, 40), (0.5, 120), (0.25, 80)])
def test_blend_mixes_by_alpha(alpha: float, expected: int) -> None:
    frame = np.full((10, 10, 3), 40, np.uint8)
    mask = np.ones((4, 6), np.float32)
    mask[1, 1] = alpha
    blend_sprite(frame, to_sprite(np.full((4, 6, 3), 200, np.uint8), mask, (3, 4)), 2, 2)
    assert abs(int(frame[3, 3, 0]) - expected) <= 1
    assert int(frame[0, 0, 0]) == 40


@pytest.mark.parametrize(("x", "y"), [(-3, -2), (8, 8), (-6, 0), (10, 10), (-100, 5)])
def test_blend_clips_at_the_frame_edges(x: int, y: int) -> None:
    frame = np.zeros((10, 10, 3), np.uint8)
    blend_sprite(frame, _solid(255), x, y)
    ys, xs = np.nonzero(frame[..., 0])
    inside_x = range(max(0, x), min(10, x + 6))
    inside_y = range(max(0, y), min(10, y + 4))
    assert len(xs) == len(inside_x) * len(inside_y)
    if len(xs):
        assert xs.min() == inside_x.start and ys.min() == inside_y.start


def test_to_sprite_rejects_mismatched_or_empty_masks() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        to_sprite(np.zeros((4, 4, 3), np.uint8), np.ones((3, 4), np.float32), (0, 0))
    with pytest.raises(ValueError, match="half opaque"):
        to_sprite(np.zeros((4, 4, 3), np.uint8), np.full((4, 4), 0.2, np.float32), (0, 0))
