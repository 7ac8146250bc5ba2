"""MISSING_FOOTAGE on synthetic timelines."""

from __future__ import annotations

import numpy as np
import pytest

from rules.items.footage import MissingFootageParams, missing_footage
from rules.timeseries import uncovered
from tests.rules.factories import OPEN, Scene, lunch_break, make_context, make_timeline, rel

QUOTE = (
    "非现场检查采取调阅监控的方式进行,每次检查支行长必须按县行检查人要求提供录像时间段,"
    "且覆盖“神秘人”检查的所有内容"
)


def test_gap_inside_the_footage_is_reported() -> None:
    """非现场检查采取调阅监控的方式进行,每次检查支行长必须按县行检查人要求提供录像时间段,
    且覆盖“神秘人”检查的所有内容。"""
    scene = Scene(coverage=[(0, 1000), (2000, 3600)])
    events = missing_footage(make_timeline(scene), make_context(scene), MissingFootageParams())
    assert [(rel(e.start, scene), rel(e.end, scene)) for e in events] == [(1000, 2000)]
    assert events[0].details["missing_s"] == 1000
    assert events[0].camera == "cam1"


@pytest.mark.parametrize(("gap", "min_gap", "expected"), [(30, 60, 0), (90, 60, 1), (30, 0, 1)])
def test_short_gaps_are_ignored(gap: float, min_gap: float, expected: int) -> None:
    """每次检查支行长必须按县行检查人要求提供录像时间段 (a file join of a few seconds is not a
    missing recording)."""
    scene = Scene(coverage=[(0, 1000), (1000 + gap, 3600)])
    events = missing_footage(
        make_timeline(scene), make_context(scene), MissingFootageParams(min_gap_s=min_gap)
    )
    assert len(events) == expected


def test_window_reports_business_hours_without_any_footage() -> None:
    """非现场检查采取调阅监控的方式进行 — the whole business day must be on record."""
    scene = Scene(coverage=[(0, 3600)])
    window = (OPEN - 3600, OPEN + 10 * 3600)  # 08:00–19:00
    events = missing_footage(
        make_timeline(scene), make_context(scene, window=window), MissingFootageParams()
    )
    assert [(rel(e.start, scene), rel(e.end, scene)) for e in events] == [(3600, 8 * 3600)]


def test_breaks_and_closed_time_are_not_missing() -> None:
    """每次检查...提供录像时间段 covers business hours only (the lunch break is not one)."""
    scene = Scene(duration_s=8 * 3600, coverage=[(0, 3 * 3600), (4 * 3600, 8 * 3600)])
    events = missing_footage(
        make_timeline(scene), make_context(scene, hours=lunch_break()), MissingFootageParams()
    )
    assert events == []


def test_no_footage_and_no_window_reports_nothing() -> None:
    """非现场检查采取调阅监控的方式进行 — without a window there is nothing to compare to."""
    scene = Scene(coverage=[])
    assert missing_footage(make_timeline(scene), make_context(scene), MissingFootageParams()) == []


def test_no_footage_with_window_reports_the_whole_day() -> None:
    """非现场检查采取调阅监控的方式进行."""
    scene = Scene(coverage=[])
    events = missing_footage(
        make_timeline(scene),
        make_context(scene, window=(OPEN - 9 * 3600, OPEN + 15 * 3600)),
        MissingFootageParams(),
    )
    assert [(rel(e.start, scene), rel(e.end, scene)) for e in events] == [(0, 8 * 3600)]


@pytest.mark.parametrize(
    ("wanted", "cov", "expected"),
    [
        ([[0, 10]], [], [[0, 10]]),
        ([[0, 10]], [[0, 10]], []),
        ([[0, 10]], [[5, 6], [2, 4]], [[0, 2], [4, 5], [6, 10]]),
        ([[0, 10], [20, 30]], [[8, 22]], [[0, 8], [22, 30]]),
        ([[0, 10]], [[1, 5], [3, 8]], [[0, 1], [8, 10]]),
    ],
)
def test_uncovered(
    wanted: list[list[float]], cov: list[list[float]], expected: list[list[float]]
) -> None:
    """且覆盖“神秘人”检查的所有内容."""
    got = uncovered(np.array(wanted, float), np.array(cov, float).reshape(-1, 2))
    assert got.tolist() == expected
