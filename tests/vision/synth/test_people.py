"""Person cutouts of the ultralytics asset photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.synth.people import CUTOUT_NAMES, UnknownCutoutError, load_cutout, make_sprite, recolour


@pytest.mark.parametrize("name", CUTOUT_NAMES)
def test_cutout_has_soft_alpha_and_a_person_sized_foreground(name: str) -> None:
    cut = load_cutout(name)
    assert cut.rgb.shape[:2] == cut.alpha.shape == cut.torso.shape
    assert 0.0 <= cut.alpha.min() and cut.alpha.max() <= 1.0
    soft = (cut.alpha > 0.05) & (cut.alpha < 0.95)
    assert soft.any(), "the edge of the mask should be feathered"
    # A person fills a good part of its own crop, but not all of it.
    assert 0.2 < float((cut.alpha >= 0.5).mean()) < 0.9
    # The torso band lies on the person.
    assert float((cut.torso * (cut.alpha < 0.5)).sum()) < 0.05 * float(cut.torso.sum())


def test_unknown_cutout_names_the_known_ones() -> None:
    with pytest.raises(UnknownCutoutError, match="bus_0"):
        load_cutout("bus_9")


@pytest.mark.parametrize(("name", "height"), [("bus_0", 100), ("bus_1", 240), ("zidane_1", 181)])
def test_sprite_is_drawn_at_the_requested_height(name: str, height: int) -> None:
    sprite = make_sprite(name, height)
    x0, y0, x1, y1 = sprite.bbox
    assert abs((y1 - y0) - height) <= max(3, 0.04 * height)
    # The anchor is the bottom centre of the person: on the last row, inside the person's width.
    assert sprite.anchor[1] == sprite.shape[0]
    assert x0 <= sprite.anchor[0] <= x1


def test_flip_mirrors_the_sprite() -> None:
    plain, flipped = make_sprite("bus_1", 120), make_sprite("bus_1", 120, flip=True)
    np.testing.assert_array_equal(plain.premult[:, ::-1], flipped.premult)
    assert flipped.anchor[0] == pytest.approx(plain.shape[1] - plain.anchor[0], abs=1)


def test_upper_body_is_cut_below_the_hips() -> None:
    full = make_sprite("bus_0", 300)
    upper = make_sprite("bus_0", 300, upper_body=True)
    # At the same drawn height the upper body is scaled up about twice: it is the top half.
    assert 1.6 < upper.shape[1] / full.shape[1] < 2.6
    # Its bottom edge is a hard cut (a counter hides the rest), not a fade.
    bottom = 256 - upper.inv_alpha[-1, :, 0].astype(np.int32)
    assert bottom.max() == 256
    assert abs(upper.bbox[3] - upper.bbox[1] - 300) <= 9


def _hue(bgr: np.ndarray) -> float:
    pixel = np.asarray(bgr, np.uint8).reshape(1, 1, 3)
    return float(cv2.cvtColor(pixel, cv2.COLOR_BGR2HSV)[0, 0, 0])


@pytest.mark.parametrize("target", [(40, 40, 190), (120, 60, 20), (60, 150, 60)])
def test_recolour_tints_the_torso_and_keeps_the_head(target: tuple[int, int, int]) -> None:
    cut = load_cutout("bus_1")
    out = recolour(cut.rgb, cut.torso, target)
    torso = cut.torso > 0.8
    head = np.zeros_like(torso)
    head[cut.top : cut.top + (cut.hip_row - cut.top) // 8] = True
    head &= cut.alpha > 0.9
    mean_out = out[torso].mean(axis=0)
    assert abs(_hue(mean_out) - _hue(np.array(target))) <= 8
    np.testing.assert_array_equal(out[head], cut.rgb[head])
