"""The business calendar: Chinese public holidays, worked weekend days (调休), working-day sums.

Two questions are answered here, from the State Council's published calendar as maintained in
the ``chinese-calendar`` package:

* is a date an official working day (工作日)? Monday to Friday unless a public holiday, plus
  the weekend days worked in exchange for a holiday (调休). Notice due dates are counted in
  these days (:func:`add_working_days`, :func:`working_days_between`).
* is a branch open on a date? :class:`rules.hours.BusinessHours` asks
  :func:`holiday_status` and combines it with the branch's own weekdays, closures and extra
  opening days.

The package publishes each year's calendar when the State Council announces it (usually in
November of the year before). For a year it does not cover yet, dates fall back to the plain
week (Monday to Friday work, no holidays) and one warning per year says so: upgrade the
package (``pip install -U chinese-calendar``).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

import chinese_calendar

logger = logging.getLogger(__name__)


class DayKind(StrEnum):
    """What the official calendar says of a date."""

    WORKDAY = "workday"
    """An ordinary working day (Monday to Friday, not a holiday)."""
    WEEKEND = "weekend"
    """An ordinary Saturday or Sunday."""
    HOLIDAY = "holiday"
    """A public holiday, or a weekday given off in exchange for a worked weekend day."""
    WORKED_WEEKEND = "worked_weekend"
    """A Saturday or Sunday worked in exchange for a holiday (调休上班)."""


@cache
def _uncovered_year(year: int) -> None:
    logger.warning(
        "the Chinese public holiday calendar for %d is not known to the installed "
        "chinese-calendar package; %d counts Monday to Friday as working days with no holidays "
        "(upgrade it: pip install -U chinese-calendar)",
        year,
        year,
    )


def day_kind(day: date) -> DayKind:
    """The official calendar's verdict on a date (see :class:`DayKind`)."""
    weekend = day.weekday() >= 5
    try:
        working = chinese_calendar.is_workday(day)
    except NotImplementedError:  # the package's answer for a year it has no data of yet
        _uncovered_year(day.year)
        return DayKind.WEEKEND if weekend else DayKind.WORKDAY
    if working:
        return DayKind.WORKED_WEEKEND if weekend else DayKind.WORKDAY
    return DayKind.WEEKEND if weekend and not is_public_holiday(day) else DayKind.HOLIDAY


def holiday_name(day: date) -> str | None:
    """The public holiday (法定节假日, days off in lieu included) a date belongs to, as the
    package names it in English, or ``None``."""
    try:
        holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year the package has no data of yet
        _uncovered_year(day.year)
        return None
    return str(name) if holiday and name else None


def is_public_holiday(day: date) -> bool:
    """Whether a date is a public holiday (including the weekdays given off in lieu)."""
    return holiday_name(day) is not None


def is_working_day(day: date) -> bool:
    """Whether a date is an official working day (a worked weekend day is one)."""
    return day_kind(day) in (DayKind.WORKDAY, DayKind.WORKED_WEEKEND)


def add_working_days(day: date, n: int) -> date:
    """The date ``n`` official working days after ``day`` (before it when ``n`` is negative).

    ``day`` itself is not counted; public holidays are skipped and worked weekend days (调休)
    count. ``n == 0`` returns ``day`` unchanged.

    Example:
        >>> add_working_days(date(2026, 9, 30), 1)  # National Day holiday: 1–7 October
        datetime.date(2026, 10, 8)
    """
    step = timedelta(days=1 if n >= 0 else -1)
    left = abs(n)
    current = day
    while left:
        current += step
        if is_working_day(current):
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Official working days after ``start`` up to and including ``end`` (negative if before).

    ``add_working_days(start, working_days_between(start, end))`` is ``end`` whenever ``end``
    is a working day.
    """
    if end < start:
        return -working_days_between(end, start)
    return sum(is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))
