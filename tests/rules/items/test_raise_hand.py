"""RAISE_HAND_AFTER_CALL on synthetic timelines and call logs."""

from __future__ import annotations

import pytest

from rules.items.raise_hand import RaiseHandParams, raise_hand_after_call
from tests.rules.factories import COUNTER_ZONES, Person, Scene, make_context, make_timeline, rel
from vision.types import Posture, Role

HAND = (Posture.WRIST_ABOVE_SHOULDER,)


def _run(people: list[Person], calls: list[tuple[str, float]], **scene: object) -> list[float]:
    sc = Scene(zones=COUNTER_ZONES, duration_s=1800, people=people, calls=calls, **scene)  # type: ignore[arg-type]
    events = raise_hand_after_call(make_timeline(sc), make_context(sc), RaiseHandParams())
    for e in events:
        assert e.zone in ("s1", "s2") and e.details["window_id"] in ("1", "2")
        assert abs(e.duration_s - 10) < 1e-6
    return [rel(e.start, sc) for e in events]


def test_call_without_raised_hand_is_reported() -> None:
    """使用叫号机的网点叫号后应举手示意,未使用叫号机的网点在无人排队且发现新来的客户时未举手示意的扣100元/次。"""
    teller = Person(1, Role.TELLER, 0, 1800, ("s1",), postures=HAND, posture_times=(300, 306))
    assert _run([teller], [("1", 300), ("1", 900)]) == [900]


@pytest.mark.parametrize(
    ("people", "calls", "expected"),
    [
        # hand raised 4 s after the call: fine
        (
            [Person(1, Role.TELLER, 0, 1800, ("s1",), postures=HAND, posture_times=(604, 608))],
            [("1", 600)],
            [],
        ),
        # hand raised 20 s after: too late
        (
            [Person(1, Role.TELLER, 0, 1800, ("s1",), postures=HAND, posture_times=(620, 626))],
            [("1", 600)],
            [600],
        ),
        # raised before the call does not count
        (
            [Person(1, Role.TELLER, 0, 1800, ("s1",), postures=HAND, posture_times=(590, 598))],
            [("1", 600)],
            [600],
        ),
        # the other window's teller raised a hand
        (
            [
                Person(1, Role.TELLER, 0, 1800, ("s1",)),
                Person(2, Role.TELLER, 0, 1800, ("s2",), postures=HAND, posture_times=(600, 606)),
            ],
            [("1", 600)],
            [600],
        ),
        # nobody at the window: not judged here (WINDOW_UNATTENDED covers it)
        ([], [("1", 600)], []),
        # a window this camera does not see
        ([Person(1, Role.TELLER, 0, 1800, ("s1",))], [("7", 600)], []),
    ],
)
def test_raise_hand_cases(
    people: list[Person], calls: list[tuple[str, float]], expected: list[float]
) -> None:
    """使用叫号机的网点叫号后应举手示意 (统一举手礼)。"""
    assert _run(people, calls) == expected


def test_calls_outside_footage_are_not_judged() -> None:
    """叫号后应举手示意 — a call during a footage gap cannot be checked."""
    teller = Person(1, Role.TELLER, 0, 1800, ("s1",))
    assert _run([teller], [("1", 600), ("1", 1500)], coverage=[(0, 1000)]) == [600]


def test_held_view_still_judges_the_call() -> None:
    """叫号后应举手示意 — a still teller (motion gate held the view) did not raise a hand."""
    teller = Person(1, Role.TELLER, 0, 1800, ("s1",))
    assert _run([teller], [("1", 600)], held=[(590, 620)]) == [600]


def test_call_after_footage_ends_is_not_judged() -> None:
    """叫号后应举手示意 — the response must be on footage to be judged."""
    teller = Person(1, Role.TELLER, 0, 1800, ("s1",))
    assert _run([teller], [("1", 995)], coverage=[(0, 1000)]) == []
