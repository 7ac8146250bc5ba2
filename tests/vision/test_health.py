"""Camera-health measures on rendered frames of the demo lobby (no encoding)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from vision.config import CameraConfig
from vision.health import HealthMonitor
from vision.reference import ReferenceStill
from vision.synth.demo import LOBBY_ZONES, lobby_script
from vision.synth.frames import FrameRenderer
from vision.synth.script import CameraFaults
from vision.timeline import CameraHealth
from vision.types import SampledFrame

START = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
CAMERA = CameraConfig(id="lobby", zones=list(LOBBY_ZONES))


@pytest.fixture(scope="module")
def renderer() -> FrameRenderer:
    script = dataclasses.replace(
        lobby_script(START, 120, 640, 360),
        fps=1,
        faults=CameraFaults(turn_at_s=60, turn_deg=5.0, black=((20, 30),), frozen=((40, 50),)),
    )
    return FrameRenderer(script)


def _measure(
    renderer: FrameRenderer, times: range, still: bool = True, edit: object = None
) -> CameraHealth:
    reference = (
        ReferenceStill(np.asarray(renderer.empty_view()), START, "opening") if still else None
    )
    monitor = HealthMonitor(CAMERA, reference)
    for t in times:
        image = np.array(renderer.frame(t))
        if callable(edit):
            image = edit(image)
        monitor.update(SampledFrame("lobby", START + timedelta(seconds=t), t, image))
    return monitor.result()


def test_black_frozen_and_turned_views_are_measured(renderer: FrameRenderer) -> None:
    h = _measure(renderer, range(0, 120, 2))
    t = np.arange(0, 120, 2)
    black = (t >= 20) & (t < 30)
    assert (h.contrast[black] < 0.01).all() and (h.contrast[~black] > 0.1).all()
    frozen = (t > 40) & (t < 50)  # the first frozen sample still differs from the one before
    assert (h.change[frozen] == 0).all()
    live = ~black & ~((t >= 40) & (t <= 50)) & (t > 0)
    assert (h.change[live] > 0.02).all()
    turned = t >= 60
    assert (h.shift[turned] > 0.035).all() and (h.shift[turned] < 0.07).all()
    seen = ~turned & ~black
    assert (h.shift[seen] < 0.01).all()
    assert np.isnan(h.shift[black]).all()  # a black frame cannot be registered
    assert (np.abs(h.rotation[seen]) < 0.5).all()


def test_blur_and_a_board_in_front_of_the_lens(renderer: FrameRenderer) -> None:
    blurred = _measure(renderer, range(0, 10, 2), edit=lambda im: cv2.GaussianBlur(im, (0, 0), 4))
    sharp = _measure(renderer, range(0, 10, 2))
    assert (blurred.sharpness < 0.5).all() and (sharp.sharpness > 0.8).all()

    def board(image: np.ndarray) -> np.ndarray:
        image[:, : image.shape[1] // 2] = 90
        return image

    covered = _measure(renderer, range(0, 10, 2), edit=board)
    assert (covered.covered > 0.4).all() and (sharp.covered < 0.1).all()


def test_without_a_marked_still_the_first_usable_frame_stands_in(
    renderer: FrameRenderer,
) -> None:
    monitor = HealthMonitor(CAMERA, None)
    for t in (22, 24, 32, 34):  # black first: not usable as a reference
        image = np.array(renderer.frame(t))
        monitor.update(SampledFrame("lobby", START + timedelta(seconds=t), t, image))
    h = monitor.result()
    assert np.isnan(h.shift[:2]).all() and (h.shift[2:] < 0.01).all()
    assert len(monitor.notes) == 1 and "first usable frame" in monitor.notes[0]
