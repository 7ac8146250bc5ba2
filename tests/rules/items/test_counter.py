"""Counter items on synthetic timelines: COUNTER_CROWDING, WINDOW_UNATTENDED."""

from __future__ import annotations

import pytest

from rules.items.counter import (
    CounterCrowdingParams,
    WindowUnattendedParams,
    counter_crowding,
    window_unattended,
)
from tests.rules.factories import COUNTER_ZONES, Person, Scene, make_context, make_timeline, rel
from vision.types import Role

C, T = Role.CUSTOMER, Role.TELLER


def _crowd(people: list[Person], **params: object) -> list[tuple[str | None, float, float, int]]:
    scene = Scene(zones=COUNTER_ZONES, duration_s=1800, people=people)
    events = counter_crowding(
        make_timeline(scene), make_context(scene), CounterCrowdingParams(**params)
    )
    return [(e.zone, rel(e.start, scene), rel(e.end, scene), e.details["peak"]) for e in events]


def test_second_customer_inside_the_line_is_crowding() -> None:
    """柜员发现有其他非正在办理业务的客户围拢在柜台前,应请客户在按顺序在一米线外等待,未做到的扣100元/次。"""
    got = _crowd(
        [
            Person(1, C, 0, 1800, ("w1",)),
            Person(2, C, 300, 400, ("w1",)),
            Person(3, C, 300, 380, ("w1",)),
        ]
    )
    assert len(got) == 1
    zone, start, end, peak = got[0]
    assert zone == "w1" and abs(start - 300) <= 2 and abs(end - 400) <= 2 and peak == 3


def test_crowding_names_the_customers_at_its_peak() -> None:
    """柜台前客户围拢: the finding says who crowded the window (人员与角色), not only how many."""
    scene = Scene(
        zones=COUNTER_ZONES,
        duration_s=1800,
        people=[
            Person(1, C, 0, 1800, ("w1",)),
            Person(2, C, 300, 400, ("w1",)),
            Person(3, Role.UNKNOWN, 330, 380, ("w1",)),
            Person(4, C, 0, 1800, ("w2",)),
        ],
    )
    (event,) = counter_crowding(make_timeline(scene), make_context(scene), CounterCrowdingParams())
    assert sorted(zip(event.track_ids, event.roles, strict=True)) == [
        (1, "customer"),
        (2, "customer"),
        (3, "unknown"),
    ]


@pytest.mark.parametrize(
    ("people", "params", "expected"),
    [
        ([Person(1, C, 0, 1800, ("w1",))], {}, 0),  # the customer being served
        ([Person(1, C, 0, 1800, ("w1",)), Person(2, C, 0, 1800, ("w2",))], {}, 0),  # two windows
        ([Person(1, C, 0, 1800, ("w1",)), Person(2, C, 100, 110, ("w1",))], {}, 0),  # passing by
        ([Person(1, C, 0, 1800, ("w1",)), Person(2, T, 0, 1800, ("w1",))], {}, 0),  # staff
        ([Person(1, C, 0, 1800, ("w1",)), Person(2, C, 0, 1800, ("w1",))], {"max_customers": 2}, 0),
        ([Person(1, C, 0, 1800, ("w2",)), Person(2, Role.UNKNOWN, 0, 60, ("w2",))], {}, 1),
    ],
)
def test_crowding_cases(people: list[Person], params: dict[str, object], expected: int) -> None:
    """柜员发现有其他非正在办理业务的客户围拢在柜台前,应请客户在按顺序在一米线外等待。"""
    assert len(_crowd(people, **params)) == expected


def test_repeats_within_cooldown_count_once() -> None:
    """未做到的扣100元/次 — one crowding scene is one occurrence."""
    base = Person(1, C, 0, 1800, ("w1",))
    people = [base, Person(2, C, 100, 200, ("w1",)), Person(3, C, 260, 360, ("w1",))]
    assert len(_crowd(people)) == 1
    assert len(_crowd(people, cooldown_s=0)) == 2


def _unattended(people: list[Person], **params: object) -> list[tuple[str | None, float, float]]:
    scene = Scene(zones=COUNTER_ZONES, duration_s=1800, people=people)
    events = window_unattended(
        make_timeline(scene), make_context(scene), WindowUnattendedParams(**params)
    )
    for e in events:
        assert e.details["window_id"] in ("1", "2")
    return [(e.zone, rel(e.start, scene), rel(e.end, scene)) for e in events]


def test_customer_waiting_at_empty_window() -> None:
    """低柜不办理业务时,未摆放服务监督牌,由大堂经理履职到位 — a customer waits at a window
    nobody staffs."""
    people = [
        Person(1, T, 0, 600, ("s1",)),
        Person(1, T, 1200, 1800, ("s1",)),
        Person(2, C, 700, 1000, ("w1",)),
        Person(3, C, 0, 1800, ("w2",)),
        Person(4, T, 0, 1800, ("s2",)),
    ]
    got = _unattended(people)
    assert len(got) == 1
    zone, start, end = got[0]
    assert zone == "w1" and abs(start - 700) <= 2 and abs(end - 1000) <= 2


@pytest.mark.parametrize(
    ("people", "params", "expected"),
    [
        ([Person(2, C, 0, 1800, ("w1",))], {}, 1),
        ([], {}, 0),  # empty window, nobody waiting
        ([Person(2, C, 0, 60, ("w1",))], {}, 0),  # a minute: teller fetching something
        ([Person(2, C, 0, 1800, ("w1",)), Person(5, Role.UNKNOWN, 0, 1800, ("s1",))], {}, 0),
        (
            [Person(2, C, 0, 1800, ("w1",)), Person(5, Role.UNKNOWN, 0, 1800, ("s1",))],
            {"unknown_at_seat": False},
            1,
        ),
    ],
)
def test_unattended_cases(people: list[Person], params: dict[str, object], expected: int) -> None:
    """低柜不办理业务时,未摆放服务监督牌,由大堂经理履职到位。"""
    assert len(_unattended(people, **params)) == expected
