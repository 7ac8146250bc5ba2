"""LOBBY_MANAGER_ABSENT on synthetic timelines."""

from __future__ import annotations

from datetime import datetime

import pytest

from rules.items.presence import (
    LobbyManagerAbsentParams,
    MorningMeetingParams,
    lobby_manager_absent,
    morning_meeting,
)
from rules.types import Event
from tests.rules.factories import (
    COUNTER_ZONES,
    OPEN,
    Person,
    Scene,
    lunch_break,
    make_context,
    make_timeline,
    rel,
)
from vision.types import Role

LM = Role.LOBBY_MANAGER


def _absent(scene: Scene, **params: object) -> list[tuple[float, float]]:
    events = lobby_manager_absent(
        make_timeline(scene), make_context(scene), LobbyManagerAbsentParams(**params)
    )
    return [(rel(e.start, scene), rel(e.end, scene)) for e in events]


def test_absence_longer_than_grace_is_reported_from_departure_to_return() -> None:
    """大堂经理在营业时间内必须全天候在岗,专职大堂经理因事不在岗时,网点应实行大堂经理岗位的
    轮班制,确保大堂经理100%在岗。"""
    scene = Scene(people=[Person(1, LM, 0, 600, ("post",)), Person(1, LM, 1500, 3600, ("post",))])
    events = lobby_manager_absent(
        make_timeline(scene), make_context(scene), LobbyManagerAbsentParams()
    )
    assert len(events) == 1
    ev = events[0]
    # The finding is the observed absence; the grace period only decides that it is one.
    assert abs(rel(ev.start, scene) - 600) <= 2
    assert abs(rel(ev.end, scene) - 1500) <= 2
    assert ev.details["grace_s"] == 300
    assert abs(rel(datetime.fromisoformat(ev.details["grace_ended"]), scene) - 900) <= 2
    assert ev.zone == "post"
    assert ev.camera == "cam1" and ev.branch == "b1"


@pytest.mark.parametrize(
    ("gap", "grace", "expected"),
    [
        ((600, 800), 300, 0),  # 200 s: within grace
        ((600, 1000), 300, 1),  # 400 s: over grace
        ((600, 1000), 500, 0),
        ((600, 610), 0, 1),  # zero grace: any looked-at absence counts
    ],
)
def test_grace_period(gap: tuple[float, float], grace: float, expected: int) -> None:
    """大堂经理在营业时间内必须全天候在岗 (a short step away within the grace period is not a
    finding)."""
    scene = Scene(
        people=[Person(1, LM, 0, gap[0], ("hall",)), Person(1, LM, gap[1], 3600, ("hall",))]
    )
    assert len(_absent(scene, grace_s=grace)) == expected


def test_time_not_looked_at_is_not_absence() -> None:
    """确保大堂经理100%在岗 — but only footage that exists can show an absence."""
    scene = Scene(
        people=[Person(1, LM, 0, 600, ("post",)), Person(1, LM, 3000, 3600, ("post",))],
        coverage=[(0, 900), (2700, 3600)],
    )
    assert _absent(scene) == []  # 300 s on each side of the gap: not more than the grace
    pieces = _absent(scene, grace_s=120)
    assert len(pieces) == 2
    assert abs(pieces[0][0] - 600) <= 2 and abs(pieces[0][1] - 900) <= 2
    assert abs(pieces[1][0] - 2700) <= 2 and abs(pieces[1][1] - 3000) <= 2


def test_samples_held_by_the_motion_gate_repeat_the_last_observation() -> None:
    """大堂经理在营业时间内必须全天候在岗 — a still view while the manager sits at the desk is
    presence, not absence."""
    scene = Scene(people=[Person(1, LM, 0, 3600, ("post",))], held=[(1000, 2500)])
    assert _absent(scene) == []


def test_held_samples_after_departure_stay_absent() -> None:
    """大堂经理在营业时间内必须全天候在岗."""
    scene = Scene(people=[Person(1, LM, 0, 1000, ("post",))], held=[(1500, 2500)])
    pieces = _absent(scene)
    assert len(pieces) == 1
    assert abs(pieces[0][0] - 1000) <= 2 and abs(pieces[0][1] - 3600) <= 2


def test_only_business_hours_count() -> None:
    """大堂经理在营业时间内必须全天候在岗 — after closing (17:00) nobody has to be there."""
    scene = Scene(start=OPEN + 7 * 3600 + 50 * 60)  # 16:50, an hour of empty lobby
    pieces = _absent(scene)
    assert len(pieces) == 1
    assert abs(pieces[0][0] - 0) <= 2  # from 16:50 (over the 5 min grace by 16:55)
    assert abs(pieces[0][1] - 600) <= 2  # ends at closing, 17:00


def test_breaks_split_absences() -> None:
    """大堂经理在营业时间内必须全天候在岗 (营业时间 excludes the configured lunch break)."""
    scene = Scene(start=OPEN + 2 * 3600 + 50 * 60, duration_s=80 * 60)  # 11:50–13:10
    events = lobby_manager_absent(
        make_timeline(scene), make_context(scene, hours=lunch_break()), LobbyManagerAbsentParams()
    )
    got = [(rel(e.start, scene), rel(e.end, scene)) for e in events]
    assert len(got) == 2
    assert abs(got[0][0] - 0) <= 2 and abs(got[0][1] - 600) <= 2
    assert abs(got[1][0] - 4200) <= 2 and abs(got[1][1] - 4800) <= 2


def test_one_sample_false_presence_does_not_split_an_absence() -> None:
    """确保大堂经理100%在岗."""
    scene = Scene(
        people=[
            Person(1, LM, 0, 600, ("post",)),
            Person(9, LM, 1000, 1002, ("hall",)),  # a single spurious detection
            Person(1, LM, 1500, 3600, ("post",)),
        ]
    )
    pieces = _absent(scene)
    assert len(pieces) == 1 and abs(pieces[0][0] - 600) <= 2


@pytest.mark.parametrize(
    ("role", "zone", "params", "absent"),
    [
        (Role.TELLER, "hall", {}, True),
        (Role.TELLER, "hall", {"any_staff": True}, False),
        (Role.GUARD, "post", {"any_staff": True}, False),
        (Role.UNKNOWN, "post", {}, False),
        (Role.UNKNOWN, "post", {"unknown_at_post": False}, True),
        (Role.UNKNOWN, "hall", {}, True),
        (Role.CUSTOMER, "post", {}, True),
    ],
)
def test_who_counts_as_on_duty(
    role: Role, zone: str, params: dict[str, object], absent: bool
) -> None:
    """大堂经理在营业时间内必须全天候在岗 — only the lobby manager (or, if configured, any staff)
    counts as on duty."""
    scene = Scene(people=[Person(1, role, 0, 3600, (zone,))])
    assert bool(_absent(scene, **params)) is absent


def test_cameras_without_lobby_zones_are_skipped() -> None:
    """大堂经理在营业时间内必须全天候在岗 — a counter camera cannot tell."""
    assert _absent(Scene(zones=COUNTER_ZONES)) == []


def test_events_are_deterministic_and_keyed() -> None:
    """确保大堂经理100%在岗."""
    scene = Scene(people=[Person(1, LM, 0, 600, ("post",))])
    first = lobby_manager_absent(
        make_timeline(scene), make_context(scene), LobbyManagerAbsentParams()
    )
    again = lobby_manager_absent(
        make_timeline(scene), make_context(scene), LobbyManagerAbsentParams()
    )
    assert [e.key for e in first] == [e.key for e in again]
    assert first[0].start.tzinfo is not None


MEETING_QUOTE = (
    "各网点要充分发挥晨会的作用,重点做好情景演练、新产品学习、6S管理学习、营销话术练习和互动创新。"
)


def _meeting_scene(
    people: list[Person], coverage: list[tuple[float, float]] | None = None
) -> Scene:
    # 07:30–09:30: the hour before opening and the first half hour of business.
    return Scene(start=OPEN - 5400, duration_s=7200, people=people, coverage=coverage)


def _meeting(scene: Scene, **params: object) -> list[Event]:
    return morning_meeting(
        make_timeline(scene), make_context(scene), MorningMeetingParams(**params)
    )


def _staff_group(n: int, t0: float, t1: float, spread: float = 0.05) -> list[Person]:
    return [
        Person(
            10 + i,
            Role.TELLER,
            t0,
            t1,
            ("hall",),
            xyxy=(0.4 + i * spread, 0.4, 0.45 + i * spread, 0.7),
        )
        for i in range(n)
    ]


def test_meeting_held_gives_no_finding() -> None:
    """各网点要充分发挥晨会的作用,重点做好情景演练、新产品学习、6S管理学习、营销话术练习和互动创新。"""
    scene = _meeting_scene(_staff_group(4, 2400, 3300))  # 08:10–08:25
    assert _meeting(scene) == []


@pytest.mark.parametrize(
    ("people", "why"),
    [
        (_staff_group(2, 2400, 3300), "too few people"),
        (_staff_group(4, 2400, 2500), "too short"),
        (_staff_group(4, 2400, 3300, spread=0.3), "not together"),
        (_staff_group(4, 5500, 6500), "after opening"),
    ],
)
def test_no_meeting_seen_is_a_finding(people: list[Person], why: str) -> None:
    """各网点要充分发挥晨会的作用 — a day without a meeting before opening is reported."""
    events = _meeting(_meeting_scene(people))
    assert len(events) == 1, why
    ev = events[0]
    assert abs(rel(ev.start, _meeting_scene([])) - 1800) < 1  # 08:00
    assert abs(rel(ev.end, _meeting_scene([])) - 5400) < 1  # 09:00
    assert ev.details["finding"]


def test_pre_opening_not_on_footage_is_not_judged() -> None:
    """各网点要充分发挥晨会的作用 — without footage of the hour before opening, nothing is said."""
    scene = _meeting_scene([], coverage=[(5000, 7200)])
    assert _meeting(scene) == []
