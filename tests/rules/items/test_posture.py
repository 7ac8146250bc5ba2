"""Posture items on synthetic timelines: STAFF_POSTURE, GUARD_POSTURE, STAFF_PHONE_USE,
STAFF_SLEEPING."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rules.items.posture import (
    GuardPostureParams,
    PostureParams,
    StaffPhoneParams,
    StaffReadingParams,
    StaffSleepingParams,
    guard_posture,
    staff_phone_use,
    staff_posture,
    staff_reading,
    staff_sleeping,
)
from rules.registry import RuleContext, RuleParams
from rules.types import Event
from tests.rules.factories import Person, Scene, make_context, make_timeline, rel
from vision.timeline import ObservationTimeline
from vision.types import Posture, Role

Rule = Callable[[ObservationTimeline, RuleContext, Any], list[Event]]


def _run(rule: Rule, params: RuleParams, people: list[Person], **scene: Any) -> list[Event]:
    sc = Scene(duration_s=1800, people=people, **scene)
    return rule(make_timeline(sc), make_context(sc), params)


def _one(pose: tuple[Posture, ...], role: Role, t: tuple[float, float]) -> list[Person]:
    return [Person(5, role, 0, 1800, ("hall",), postures=pose, posture_times=t)]


def test_staff_posture_reports_arms_crossed() -> None:
    """网点员工应时刻保持规范的站姿或坐姿,不能出现不雅的举止,如站立时出现:双臂抱于胸前、手插口袋、
    身体歪斜、背靠其他物体、背手等不雅动作;坐立时斜靠在椅子上或翘起二郎腿等。"""
    events = _run(
        staff_posture, PostureParams(), _one((Posture.ARMS_CROSSED,), Role.TELLER, (600, 700))
    )
    assert len(events) == 1
    ev = events[0]
    assert abs(rel(ev.start, Scene()) - 600) <= 2 and abs(rel(ev.end, Scene()) - 700) <= 2
    assert ev.track_ids == (5,) and ev.roles == ("teller",)
    assert ev.details["observed"] == {"arms_crossed": 1.0}  # what the reviewer is told was seen
    assert ev.box is not None and ev.evidence_ts is not None
    assert ev.start <= ev.evidence_ts <= ev.end


@pytest.mark.parametrize(
    ("rule", "params", "pose", "role", "span", "expected"),
    [
        # 站姿: 双臂抱于胸前 / 背手 / 翘起二郎腿; too short or wrong role → nothing.
        (
            staff_posture,
            PostureParams(),
            (Posture.HANDS_BEHIND_BACK,),
            Role.LOBBY_MANAGER,
            (0, 60),
            1,
        ),
        (staff_posture, PostureParams(), (Posture.LEGS_CROSSED,), Role.TELLER, (0, 60), 1),
        (staff_posture, PostureParams(), (Posture.ARMS_CROSSED,), Role.TELLER, (0, 20), 0),
        (staff_posture, PostureParams(), (Posture.ARMS_CROSSED,), Role.CUSTOMER, (0, 600), 0),
        (staff_posture, PostureParams(), (Posture.SEATED,), Role.TELLER, (0, 600), 0),
        # 保安坐姿不端正、保安举止不雅
        (guard_posture, GuardPostureParams(), (Posture.LEANING,), Role.GUARD, (0, 120), 1),
        (guard_posture, GuardPostureParams(), (Posture.SEATED,), Role.GUARD, (0, 600), 0),
        (
            guard_posture,
            GuardPostureParams(postures=("seated",)),
            (Posture.SEATED,),
            Role.GUARD,
            (0, 600),
            1,
        ),
        (guard_posture, GuardPostureParams(), (Posture.LEANING,), Role.TELLER, (0, 600), 0),
        # 低柜柜员使用手机(与业务无关); 在客户面前耍手机
        (
            staff_phone_use,
            StaffPhoneParams(),
            (Posture.LOOKING_AT_PHONE,),
            Role.TELLER,
            (100, 130),
            1,
        ),
        (
            staff_phone_use,
            StaffPhoneParams(),
            (Posture.WRIST_NEAR_EAR,),
            Role.LOBBY_MANAGER,
            (100, 130),
            1,
        ),
        (
            staff_phone_use,
            StaffPhoneParams(),
            (Posture.LOOKING_AT_PHONE,),
            Role.TELLER,
            (100, 106),
            0,
        ),
        (
            staff_phone_use,
            StaffPhoneParams(),
            (Posture.LOOKING_AT_PHONE,),
            Role.CUSTOMER,
            (0, 600),
            0,
        ),
        # 看报纸杂志
        (staff_reading, StaffReadingParams(), (Posture.READING,), Role.TELLER, (0, 90), 1),
        (staff_reading, StaffReadingParams(), (Posture.READING,), Role.TELLER, (0, 40), 0),
        (staff_reading, StaffReadingParams(), (Posture.READING,), Role.CUSTOMER, (0, 600), 0),
        (
            staff_reading,
            StaffReadingParams(),
            (Posture.LOOKING_AT_PHONE,),
            Role.TELLER,
            (0, 600),
            0,
        ),
    ],
)
def test_posture_items(
    rule: Rule,
    params: RuleParams,
    pose: tuple[Posture, ...],
    role: Role,
    span: tuple[float, float],
    expected: int,
) -> None:
    """站立时出现双臂抱于胸前、手插口袋、身体歪斜、背靠其他物体、背手; 保安坐姿不端正、保安举止不雅;
    低柜柜员使用手机(与业务无关)."""
    assert len(_run(rule, params, _one(pose, role, span))) == expected


def test_cooldown_suppresses_repeats_of_the_same_person() -> None:
    """网点员工应时刻保持规范的站姿或坐姿 — one habit, one finding per cool-down."""
    people = [
        Person(
            5,
            Role.TELLER,
            0,
            1800,
            ("hall",),
            postures=(Posture.ARMS_CROSSED,),
            posture_times=(0, 60),
        ),
    ]
    people2 = [
        Person(
            5,
            Role.TELLER,
            0,
            1800,
            ("hall",),
            postures=(Posture.ARMS_CROSSED,),
            posture_times=(200, 260),
        ),
    ]
    timeline_events = []
    for ppl in (people, people2):
        timeline_events += _run(staff_posture, PostureParams(), ppl)
    assert len(timeline_events) == 2  # separately each is one finding
    both = [
        Person(5, Role.TELLER, 0, 100, ("hall",), postures=(Posture.ARMS_CROSSED,)),
        Person(5, Role.TELLER, 100, 200, ("hall",)),
        Person(5, Role.TELLER, 200, 300, ("hall",), postures=(Posture.ARMS_CROSSED,)),
    ]
    assert len(_run(staff_posture, PostureParams(), both)) == 1
    assert len(_run(staff_posture, PostureParams(cooldown_s=0), both)) == 2


def test_missed_detections_do_not_split_a_finding() -> None:
    """身体歪斜、背靠其他物体 — a pose held through a few missed frames is one finding."""
    people = [
        Person(5, Role.TELLER, 0, 100, ("hall",), postures=(Posture.LEANING,)),
        Person(5, Role.TELLER, 104, 200, ("hall",), postures=(Posture.LEANING,)),
    ]
    events = _run(staff_posture, PostureParams(cooldown_s=0), people)
    assert len(events) == 1 and abs(events[0].duration_s - 200) <= 2


def test_held_samples_keep_the_pose() -> None:
    """坐立时斜靠在椅子上 — a still view (motion gate) keeps the last pose."""
    people = [Person(5, Role.TELLER, 0, 600, ("hall",), postures=(Posture.LEANING,))]
    events = _run(staff_posture, PostureParams(cooldown_s=0), people, held=[(100, 130), (200, 228)])
    assert len(events) == 1 and abs(events[0].duration_s - 600) <= 2


@pytest.mark.parametrize(
    ("path", "span", "expected"),
    [
        (None, (0, 600), 1),  # head down, still, ten minutes
        (None, (0, 120), 0),  # two minutes: a glance down, not sleep
        (((0.1, 0.5), (0.9, 0.5)), (0, 600), 0),  # head down but walking
    ],
)
def test_staff_sleeping(
    path: tuple[tuple[float, float], tuple[float, float]] | None,
    span: tuple[float, float],
    expected: int,
) -> None:
    """网点员工在营业期间不做与业务无关的事情,如嬉笑聊天、大声喧哗、看报纸杂志、睡觉。"""
    people = [
        Person(
            5,
            Role.TELLER,
            0,
            1800,
            ("hall",),
            postures=(Posture.HEAD_DROPPED,),
            posture_times=span,
            path=path,
        )
    ]
    assert len(_run(staff_sleeping, StaffSleepingParams(), people)) == expected


def test_sleeping_through_a_held_view() -> None:
    """网点员工在营业期间不做与业务无关的事情,如……睡觉 — a sleeper does not move, so the motion gate
    holds the view and the model runs only once a minute; that is still sleep."""
    held = [(k * 60 + 2, k * 60 + 60) for k in range(30)]
    people = [Person(5, Role.TELLER, 0, 1800, ("hall",), postures=(Posture.HEAD_DROPPED,))]
    events = _run(staff_sleeping, StaffSleepingParams(), people, held=held)
    assert len(events) == 1 and events[0].duration_s >= 1700
    assert events[0].zone == "hall"
