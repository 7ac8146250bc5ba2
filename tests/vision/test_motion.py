"""Motion gate on synthetic frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest

from vision.config import SamplingConfig
from vision.motion import GateDecision, MotionGate, thumbnail

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def frame(grey: int = 80, box: tuple[int, int, int, int] | None = None) -> npt.NDArray[np.uint8]:
    """A 180×320 BGR frame, optionally with a white box (x0, y0, x1, y1)."""
    image = np.full((180, 320, 3), grey, np.uint8)
    if box is not None:
        x0, y0, x1, y1 = box
        image[y0:y1, x0:x1] = 255
    return image


def noisy(image: npt.NDArray[np.uint8], sigma: float, seed: int) -> npt.NDArray[np.uint8]:
    rnd = np.random.default_rng(seed)
    return np.clip(image + rnd.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def test_first_frame_always_goes_to_inference() -> None:
    gate = MotionGate(threshold=0.004, max_hold_s=30)
    assert gate.decide(frame(), T0) == GateDecision(infer=True, measure=1.0)


def test_unchanged_view_is_held_until_max_hold() -> None:
    gate = MotionGate(threshold=0.004, max_hold_s=10)
    decisions = [gate.decide(frame(), T0 + timedelta(seconds=2 * k)) for k in range(12)]
    assert [d.infer for d in decisions] == [
        True,
        False,
        False,
        False,
        False,
        True,
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    assert all(d.measure == 0.0 for d in decisions[1:])


def test_sensor_noise_stays_below_the_default_threshold() -> None:
    gate = MotionGate.from_config(SamplingConfig())
    base = frame(120)
    gate.decide(noisy(base, 4.0, 0), 0.0)
    decisions = [gate.decide(noisy(base, 4.0, k), 2.0 * k) for k in range(1, 10)]
    assert not any(d.infer for d in decisions)
    assert max(d.measure for d in decisions) < SamplingConfig().motion_threshold


@pytest.mark.parametrize(
    ("box", "expected_measure"),
    [
        # a person-sized box (40×80 px of 320×180) turning white on grey 80
        ((100, 50, 140, 130), (40 * 80) / (320 * 180) * (255 - 80) / 255),
        # half the view
        ((0, 0, 160, 180), 0.5 * (255 - 80) / 255),
    ],
)
def test_a_person_entering_triggers_inference_with_the_expected_measure(
    box: tuple[int, int, int, int], expected_measure: float
) -> None:
    gate = MotionGate(threshold=0.004, max_hold_s=30)
    gate.decide(frame(), 0.0)
    decision = gate.decide(frame(box=box), 2.0)
    assert decision.infer
    assert decision.measure == pytest.approx(expected_measure, rel=0.05)


def test_reference_is_the_last_inferred_frame_so_slow_drift_accumulates() -> None:
    gate = MotionGate(threshold=0.02, max_hold_s=3600)
    gate.decide(frame(100), 0.0)
    results = [gate.decide(frame(100 + k), 2.0 * k) for k in range(1, 10)]
    # each step changes 1/255 ≈ 0.004 against the previous frame, but the gate compares
    # with the last inferred frame: the 6th step (6/255 ≈ 0.0235) crosses 0.02
    assert [r.infer for r in results] == [False] * 5 + [True] + [False] * 3
    assert results[6].measure == pytest.approx(1 / 255, abs=1e-3)


def test_time_going_backwards_forces_inference() -> None:
    gate = MotionGate(threshold=0.004, max_hold_s=30)
    gate.decide(frame(), 100.0)
    assert gate.decide(frame(), 50.0).infer


def test_gates_of_different_cameras_are_independent() -> None:
    a, b = MotionGate(0.004, 30), MotionGate(0.004, 30)
    a.decide(frame(), 0.0)
    assert b.decide(frame(), 2.0).infer
    assert not a.decide(frame(), 2.0).infer


def test_thumbnail_is_small_grey_and_normalised() -> None:
    thumb = thumbnail(frame(255))
    assert thumb.shape == (36, 64) and thumb.dtype == np.float32
    assert thumb.max() == pytest.approx(1.0)
    assert thumbnail(frame(51)[:, :, 0]).mean() == pytest.approx(0.2)


@pytest.mark.parametrize(("threshold", "max_hold"), [(-0.1, 30.0), (1.5, 30.0), (0.01, -1.0)])
def test_invalid_settings_are_rejected(threshold: float, max_hold: float) -> None:
    with pytest.raises(ValueError, match="threshold|max_hold_s"):
        MotionGate(threshold, max_hold)
