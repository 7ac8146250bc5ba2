"""Coverage: merged footage, gaps in business hours, overlapping files."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rules.hours import BusinessHours, TimeRange
from vision.coverage import (
    CoveredRange,
    Gap,
    coverage_gaps,
    covered_intervals,
    merge_intervals,
    subtract,
)
from vision.discovery import ExportFile

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 23)  # a Monday


def at(hh: int, mm: int = 0, ss: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), TZ)


def footage(camera: str, start: datetime, end: datetime | None, branch: str = "b1") -> ExportFile:
    return ExportFile(Path(f"{camera}_{start:%H%M%S}.mp4"), branch, camera, start, end, "test")


HOURS = BusinessHours(
    open=TimeRange(start=time(9), end=time(17)),
    breaks=[TimeRange(start=time(12), end=time(13))],
)


def test_merge_joins_overlaps_and_small_holes() -> None:
    spans = [(at(10), at(11)), (at(9), at(10, 0, 1)), (at(11, 0, 2), at(12)), (at(14), at(15))]
    assert merge_intervals(spans) == [(at(9), at(11)), (at(11, 0, 2), at(12)), (at(14), at(15))]
    assert merge_intervals(spans, join_s=2) == [(at(9), at(12)), (at(14), at(15))]


@pytest.mark.parametrize(
    ("covered", "expected"),
    [
        ([], [(at(9), at(12))]),
        ([(at(8), at(13))], []),
        (
            [(at(9, 30), at(10)), (at(11), at(11, 30))],
            [(at(9), at(9, 30)), (at(10), at(11)), (at(11, 30), at(12))],
        ),
        ([(at(7), at(9, 15)), (at(11, 45), at(20))], [(at(9, 15), at(11, 45))]),
    ],
)
def test_subtract(
    covered: list[tuple[datetime, datetime]], expected: list[tuple[datetime, datetime]]
) -> None:
    assert subtract((at(9), at(12)), covered) == expected


def test_gaps_per_camera_and_day_including_a_camera_without_any_recording() -> None:
    files = [
        footage("counter", at(8, 55), at(10)),
        footage("counter", at(10, 0, 1), at(11)),  # 1 s hole between DVR files: joined
        footage("counter", at(14), at(18)),
        footage("lobby", at(8), at(18)),
    ]
    covered = covered_intervals(files, join_s=2)
    cameras = ["counter", "lobby", "vault"]
    opens = {("b1", cam): HOURS.intervals(DAY, TZ) for cam in cameras}
    gaps = coverage_gaps(covered, opens)
    assert gaps == [
        Gap("b1", "counter", DAY, at(11), at(12)),
        Gap("b1", "counter", DAY, at(13), at(14)),
        Gap("b1", "vault", DAY, at(9), at(12)),
        Gap("b1", "vault", DAY, at(13), at(17)),
    ]
    assert sum(g.seconds for g in gaps if g.camera == "vault") == 7 * 3600


def test_gaps_over_several_days_use_local_days_and_skip_closed_days() -> None:
    sunday_closed = BusinessHours(days=["mon", "tue", "wed", "thu", "fri", "sat"])
    days = [DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)]  # Sun, Mon, Tue
    opens = {("b1", "cam"): [iv for d in days for iv in sunday_closed.intervals(d, TZ)]}
    covered = covered_intervals([footage("cam", at(9), at(17))])  # Monday only
    gaps = coverage_gaps(covered, opens)
    tuesday = DAY + timedelta(days=1)
    assert gaps == [Gap("b1", "cam", tuesday, at(9, day=tuesday), at(17, day=tuesday))]
    assert gaps[0].start.tzinfo == TZ


def test_gap_times_are_reported_in_branch_time_even_for_utc_footage() -> None:
    utc = ZoneInfo("UTC")
    files = [footage("cam", at(9).astimezone(utc), at(16).astimezone(utc))]
    gaps = coverage_gaps(covered_intervals(files), {("b1", "cam"): [(at(9), at(17))]})
    assert gaps == [Gap("b1", "cam", DAY, at(16), at(17))]
    assert gaps[0].start.tzinfo == TZ and gaps[0].start.hour == 16


def test_short_gaps_can_be_ignored() -> None:
    files = [footage("cam", at(9), at(10)), footage("cam", at(10, 0, 30), at(17))]
    opens = {("b1", "cam"): [(at(9), at(17))]}
    assert len(coverage_gaps(covered_intervals(files), opens)) == 1
    assert coverage_gaps(covered_intervals(files), opens, min_gap_s=60) == []


def test_files_without_end_do_not_count_as_coverage() -> None:
    covered = covered_intervals([footage("cam", at(9), None)])
    assert covered == {}
    gaps = coverage_gaps(covered, {("b1", "cam"): [(at(9), at(17))]})
    assert gaps == [Gap("b1", "cam", DAY, at(9), at(17))]


def test_covered_ranges_from_the_sampler_are_accepted() -> None:
    read = CoveredRange(Path("ch01.mp4"), "b1", "cam", at(9), at(9, 30))
    assert covered_intervals([read]) == {("b1", "cam"): [(at(9), at(9, 30))]}
