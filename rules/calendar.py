"""Working days of the Chinese business calendar: public holidays and 调休 make-up days.

Years the ``chinese-calendar`` package publishes (the State Council's arrangement, 调休 Saturdays
included) come from it; later years fall back to the statutory holidays of the ``holidays``
package with weekends off, which misses their 调休 days until the package is updated.

Example:
    >>> add_working_days(date(2026, 9, 30), 1)  # the National Day holiday ends on 7 October
    datetime.date(2026, 10, 8)
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import cache

import chinese_calendar
import holidays

logger = logging.getLogger(__name__)


@cache
def _statutory(year: int) -> frozenset[date]:
    logger.warning(
        "no 调休 arrangement known for %d; counting working days as Monday–Friday without "
        "statutory holidays (update the chinese-calendar package)",
        year,
    )
    return frozenset(holidays.country_holidays("CN", years=year))


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5 and day not in _statutory(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count).

    Args:
        start: Day the period begins (e.g. the day a notice is issued).
        days: Working days to add (≥ 0; 0 gives ``start``).

    Returns:
        The due date.
    """
    if days < 0:
        raise ValueError(f"days must be ≥ 0, not {days}")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if ``end`` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))
