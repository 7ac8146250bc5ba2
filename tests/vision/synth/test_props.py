"""Object photos used as props."""

from __future__ import annotations

import pytest

from vision.synth.props import PROP_NAMES, UnknownPropError, load_prop, prop_sprite


@pytest.mark.parametrize("name", PROP_NAMES)
def test_prop_has_a_mask_that_covers_the_object(name: str) -> None:
    rgb, alpha = load_prop(name)
    assert rgb.shape[:2] == alpha.shape and rgb.shape[2] == 3
    opaque = float((alpha >= 0.5).mean())
    assert 0.3 < opaque <= 1.0
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0


def test_cup_mask_leaves_the_table_out() -> None:
    _, alpha = load_prop("cup")
    # The corners of the crop are wooden table, not cup or saucer.
    for corner in (alpha[:20, :20], alpha[:20, -20:], alpha[-20:, :20], alpha[-20:, -20:]):
        assert corner.mean() < 0.2


@pytest.mark.parametrize("box", [(100, 50, 180, 120), (10, 10, 300, 40), (0, 0, 20, 200)])
def test_prop_fits_its_box_and_stands_on_the_bottom(box: tuple[int, int, int, int]) -> None:
    sprite, (x, y) = prop_sprite("cup", box)
    h, w = sprite.shape
    assert box[0] <= x and x + w <= box[2] and box[1] <= y
    assert y + h == box[3]
    assert w == box[2] - box[0] or h == box[3] - box[1]


def test_unknown_or_empty_props_are_refused() -> None:
    with pytest.raises(UnknownPropError, match="cup"):
        load_prop("piano")
    with pytest.raises(ValueError, match="smaller than 2x2"):
        prop_sprite("cup", (10, 10, 11, 40))
