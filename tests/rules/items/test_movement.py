"""Patrolling items on synthetic timelines."""

from __future__ import annotations

import numpy as np
import pytest

from rules.items.movement import (
    GuardNotPatrollingParams,
    NotPatrollingParams,
    guard_not_patrolling,
    lobby_manager_not_patrolling,
    stationary_rows,
)
from tests.rules.factories import Person, Scene, make_context, make_timeline, rel
from vision.types import Role

CUSTOMER = Person(99, Role.CUSTOMER, 0, 3600, ("hall",), xyxy=(0.8, 0.5, 0.85, 0.9))


def test_guard_standing_still_is_reported() -> None:
    """保安坐姿不端正、保安举止不雅、保安未在厅内走动巡视,协助维护营业秩序。"""
    scene = Scene(people=[Person(3, Role.GUARD, 0, 3600, ("hall",))])
    events = guard_not_patrolling(
        make_timeline(scene), make_context(scene), GuardNotPatrollingParams()
    )
    assert len(events) == 1
    assert rel(events[0].start, scene) <= 60
    assert abs(rel(events[0].end, scene) - 3600) <= 2
    assert events[0].track_ids == (3,)


def test_guard_walking_the_hall_is_fine() -> None:
    """保安未在厅内走动巡视 — a guard who walks is patrolling."""
    walk = [
        Person(
            3,
            Role.GUARD,
            a,
            a + 300,
            ("hall",),
            path=((0.1, 0.5), (0.9, 0.5)) if k % 2 else ((0.9, 0.5), (0.1, 0.5)),
        )
        for k, a in enumerate(range(0, 3600, 300))
    ]
    scene = Scene(people=walk)
    assert (
        guard_not_patrolling(make_timeline(scene), make_context(scene), GuardNotPatrollingParams())
        == []
    )


@pytest.mark.parametrize(("customers", "expected"), [((CUSTOMER,), 1), ((), 0)])
def test_lobby_manager_idle_only_counts_while_customers_wait(
    customers: tuple[Person, ...], expected: int
) -> None:
    """大堂经理空闲时应在网点进行巡视; 大堂经理空闲时未主动问候客户。"""
    scene = Scene(people=[Person(1, Role.LOBBY_MANAGER, 0, 3600, ("post",)), *customers])
    events = lobby_manager_not_patrolling(
        make_timeline(scene), make_context(scene), NotPatrollingParams()
    )
    assert len(events) == expected


@pytest.mark.parametrize(("end_x", "still"), [(0.9, False), (0.3, True), (0.1, True)])
def test_stationary_rows_judges_each_minute(end_x: float, still: bool) -> None:
    """保安未在厅内走动巡视 — covering more than the radius within a minute is moving."""
    walker = Person(3, Role.GUARD, 0, 600, ("hall",), path=((0.1, 0.5), (end_x, 0.5)))
    tl = make_timeline(Scene(duration_s=600, people=[walker]))
    flags = stationary_rows(tl, np.ones(len(tl.sample), bool), radius=0.06, window_s=60)
    assert bool(flags.all()) is still


def test_slow_drift_across_the_hall_is_patrolling() -> None:
    """保安未在厅内走动巡视 — drifting slowly from one end of the hall to the other is walking."""
    drift = Person(3, Role.GUARD, 0, 3600, ("hall",), path=((0.1, 0.5), (0.9, 0.5)))
    scene = Scene(people=[drift])
    events = guard_not_patrolling(
        make_timeline(scene), make_context(scene), GuardNotPatrollingParams()
    )
    assert events == []
