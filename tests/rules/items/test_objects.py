"""Static-object items on synthetic timelines: CLUTTER_CUSTOMER_VIEW, SELF_SERVICE_LITTER."""

from __future__ import annotations

from typing import Any

import pytest

from rules.items.objects import (
    LitterParams,
    ObjectParams,
    clutter_customer_view,
    self_service_litter,
)
from tests.rules.factories import OPEN, Scene, StaticObject, make_context, make_timeline, rel
from vision.timeline import UNKNOWN_LABEL, ZoneInfo

ZONES = (
    ZoneInfo("desk", "customer_view"),
    ZoneInfo("atm", "self_service"),
    ZoneInfo("hall", "lobby"),
)
SMALL = (0.5, 0.9, 0.52, 0.92)


def _clutter(
    objects: list[StaticObject], *, start: float = OPEN, **params: object
) -> list[tuple[float, float]]:
    scene = Scene(zones=ZONES, start=start, objects=objects)
    events = clutter_customer_view(
        make_timeline(scene), make_context(scene), ObjectParams(**params)
    )
    for e in events:
        assert e.box is not None and e.zone == "desk" and e.details["label"]
    return [(rel(e.start, scene), rel(e.end, scene)) for e in events]


def test_bag_on_the_desk_is_clutter() -> None:
    """营业厅内没有在顾客视野范围内堆放有碍整洁要求的公、私物品,物品放置应符合安全、合理原则,不能出现
    杂物堆放的现象,如厅堂内有包裹,桌子上摆放有私人水杯等。"""
    got = _clutter([StaticObject("desk", 600, 2400, "cup")])
    assert len(got) == 1 and abs(got[0][0] - 600) <= 2 and abs(got[0][1] - 2400) <= 2


@pytest.mark.parametrize(
    ("obj", "params", "expected"),
    [
        (StaticObject("desk", 0, 300), {}, 0),  # five minutes: being used
        (StaticObject("hall", 0, 3600), {}, 0),  # not a customer-view zone
        (StaticObject("desk", 0, 3600, "person"), {}, 0),
        (StaticObject("desk", 0, 3600, "cup"), {"labels": ("bag",)}, 0),
        (StaticObject("desk", 0, 3600, "bag"), {"labels": ("bag",)}, 1),
        (StaticObject("desk", 0, 3600), {"zones": ("customer_view", "lobby")}, 1),
        # No object detector: found by persistent change alone, reported as such.
        (StaticObject("desk", 0, 3600, UNKNOWN_LABEL), {}, 1),
        (StaticObject("desk", 0, 3600, UNKNOWN_LABEL), {"labels": ("cup",)}, 0),
        # A detector named it, but too unsure of the name.
        (StaticObject("desk", 0, 3600, "cup", confidence=0.2), {}, 0),
        (StaticObject("desk", 0, 3600, "cup", confidence=0.2), {"min_confidence": 0.1}, 1),
    ],
)
def test_clutter_cases(obj: StaticObject, params: dict[str, Any], expected: int) -> None:
    """营业厅客户视线内有非当笔业务必备的单据、报表和设备外的物品考核100-200元。"""
    assert len(_clutter([obj], **params)) == expected


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        (StaticObject("desk", 1202, 2400, "cup"), [(600, 2400)]),  # next file, same cup
        # Another place on the desk: another object.
        (
            StaticObject("desk", 1202, 2400, "cup", (0.6, 0.6, 0.65, 0.65)),
            [(600, 1200), (1202, 2400)],
        ),
        # Gone for five minutes, then something stands there again: a new finding.
        (StaticObject("desk", 1500, 2400, "cup"), [(600, 1200), (1500, 2400)]),
    ],
)
def test_one_object_seen_in_two_files_is_one_finding(
    second: StaticObject, expected: list[tuple[float, float]]
) -> None:
    """严禁私人物品出现在客户视线范围内 — one cup left on the desk is one problem, even when two
    export files each see it."""
    got = _clutter([StaticObject("desk", 600, 1200, "cup"), second], min_duration_s=300)
    assert len(got) == len(expected)
    for (s0, e0), (s1, e1) in zip(sorted(got), expected, strict=True):
        assert abs(s0 - s1) <= 2 and abs(e0 - e1) <= 2


def test_clutter_counts_only_business_hours() -> None:
    """营业时间内,营业厅客户视线内有非当笔业务必备的单据、报表和设备外的物品考核100-200元。"""
    # Scene starts 16:30; the object lies 16:30–17:30; only 30 minutes are in business hours.
    got = _clutter([StaticObject("desk", 0, 3600)], start=OPEN + 7.5 * 3600)
    assert len(got) == 1 and abs(got[0][1] - 1800) <= 2
    assert (
        _clutter([StaticObject("desk", 0, 3600)], start=OPEN + 7.5 * 3600, min_duration_s=2400)
        == []
    )


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (StaticObject("atm", 100, 1000, "paper", SMALL), 1),  # 凭条 on the floor
        (StaticObject("atm", 100, 200, "paper", SMALL), 0),  # picked up soon
        (StaticObject("atm", 100, 1000, "bin", (0.3, 0.3, 0.6, 0.9)), 0),  # too big: fit-out
        (StaticObject("desk", 100, 1000, "paper", SMALL), 0),  # not the self-service area
    ],
)
def test_self_service_litter(obj: StaticObject, expected: int) -> None:
    """自助区域包括玻璃门、墙表面、地面、通道环境整洁无垃圾,不能出现纸屑,烟头或打印凭条等。"""
    scene = Scene(zones=ZONES, objects=[obj])
    events = self_service_litter(make_timeline(scene), make_context(scene), LitterParams())
    assert len(events) == expected


def test_no_object_layer_no_findings() -> None:
    """自助区域...整洁无垃圾 — without the static-object layer nothing can be said."""
    scene = Scene(zones=ZONES)
    assert self_service_litter(make_timeline(scene), make_context(scene), LitterParams()) == []
    assert clutter_customer_view(make_timeline(scene), make_context(scene), ObjectParams()) == []
