"""The business calendar: public holidays, worked weekend days (调休), working-day sums."""

from __future__ import annotations

import logging
from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from rules.calendar import (
    DayKind,
    add_working_days,
    day_kind,
    holiday_name,
    is_public_holiday,
    is_working_day,
    working_days_between,
)
from rules.hours import BusinessHours, TimeRange

TZ = ZoneInfo("Asia/Shanghai")
WORKED_SATURDAY = date(2026, 10, 10)  # worked in exchange for the National Day holiday
NATIONAL_DAY = date(2026, 10, 1)
DAY_OFF_IN_LIEU = date(2026, 10, 5)  # a Monday given off
ORDINARY_SATURDAY = date(2026, 11, 21)


def test_official_calendar_knows_holidays_and_worked_weekends() -> None:
    assert day_kind(WORKED_SATURDAY) == DayKind.WORKED_WEEKEND
    assert day_kind(NATIONAL_DAY) == DayKind.HOLIDAY
    assert day_kind(DAY_OFF_IN_LIEU) == DayKind.HOLIDAY
    assert day_kind(ORDINARY_SATURDAY) == DayKind.WEEKEND
    assert day_kind(date(2026, 11, 23)) == DayKind.WORKDAY
    assert is_working_day(WORKED_SATURDAY) and not is_working_day(NATIONAL_DAY)
    assert is_public_holiday(DAY_OFF_IN_LIEU) and not is_public_holiday(ORDINARY_SATURDAY)
    assert holiday_name(NATIONAL_DAY) == "National Day"
    assert holiday_name(ORDINARY_SATURDAY) is None


def test_add_working_days_skips_holidays_and_counts_worked_weekends() -> None:
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # Thu 8, Fri 9, worked Sat 10, Mon 12
    assert add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert add_working_days(date(2026, 10, 12), -4) == date(2026, 9, 30)
    assert add_working_days(NATIONAL_DAY, 0) == NATIONAL_DAY
    # an ordinary week: Friday + 1 is Monday
    assert add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)


def test_working_days_between_inverts_add_working_days() -> None:
    start = date(2026, 9, 25)
    for n in range(0, 15):
        end = add_working_days(start, n)
        assert working_days_between(start, end) == n
        assert working_days_between(end, start) == -n


def test_year_outside_the_package_falls_back_to_the_week_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="rules.calendar"):
        assert day_kind(date(2099, 1, 1)) == DayKind.WORKDAY  # a Thursday
        assert day_kind(date(2099, 1, 3)) == DayKind.WEEKEND
    assert "2099" in caplog.text and "upgrade" in caplog.text


def test_branch_hours_follow_the_holiday_calendar() -> None:
    weekdays_only = BusinessHours(days=["mon", "tue", "wed", "thu", "fri"])
    assert weekdays_only.is_open(WORKED_SATURDAY)
    assert not weekdays_only.is_open(NATIONAL_DAY)
    assert not weekdays_only.is_open(ORDINARY_SATURDAY)
    assert weekdays_only.intervals(WORKED_SATURDAY, TZ)
    assert weekdays_only.intervals(NATIONAL_DAY, TZ) == []

    plain = BusinessHours(days=["mon", "tue", "wed", "thu", "fri"], holidays="none")
    assert not plain.is_open(WORKED_SATURDAY)
    assert plain.is_open(NATIONAL_DAY)


def test_branch_closures_and_extra_opening_days_win() -> None:
    hours = BusinessHours(
        open=TimeRange(start=time(9), end=time(17)),
        closed_dates=[date(2026, 11, 23)],
        open_dates=[NATIONAL_DAY],
    )
    assert not hours.is_open(date(2026, 11, 23))
    assert hours.is_open(NATIONAL_DAY)
    with pytest.raises(ValueError, match="both closed and open"):
        BusinessHours(closed_dates=[NATIONAL_DAY], open_dates=[NATIONAL_DAY])
