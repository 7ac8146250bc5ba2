"""Waypoint builders."""

from __future__ import annotations

import pytest

from vision.synth.moves import WALK_SPEED, away, sway, visit, walk


def test_walk_takes_distance_over_speed_and_dwells() -> None:
    points = walk(5.0, ((0.1, 0.8), (0.5, 0.8), (0.5, 0.5)), (2.0, 3.0, 0.0))
    got = [v for p in points for v in (p.t_s, p.x, p.y)]
    expected = [
        (5.0, 0.1, 0.8),
        (7.0, 0.1, 0.8),
        (7.0 + 0.4 / WALK_SPEED, 0.5, 0.8),
        (10.0 + 0.4 / WALK_SPEED, 0.5, 0.8),
        (10.0 + 0.7 / WALK_SPEED, 0.5, 0.5),
    ]
    assert got == pytest.approx([v for row in expected for v in row])


def test_walk_rejects_mismatched_dwell() -> None:
    with pytest.raises(ValueError, match="dwell"):
        walk(0.0, ((0.0, 0.0), (1.0, 1.0)), (1.0,))


def test_visit_leaves_the_spot_at_t_out_and_away_returns_by_back() -> None:
    v = visit(10.0, 30.0, (0.5, 0.9), (1.1, 0.9))
    assert v[1].t_s == pytest.approx(13.0) and v[2].t_s == 30.0 and v[-1].x == 1.1
    a = away((0.3, 0.9), (-0.1, 0.9), ((50.0, 100.0), (200.0, 400.0)))
    assert [p.t_s for p in a] == pytest.approx([0, 50, 52, 98, 100, 200, 202, 398, 400])


def test_sway_alternates_around_home() -> None:
    xs = [p.x for p in sway((0.5, 0.8), 60.0, 20.0, 0.01)]
    assert xs == pytest.approx([0.51, 0.49, 0.51, 0.49])
