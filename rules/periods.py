"""Scoring periods: a day, ISO week, month, quarter, stage (阶段) or year, as local dates."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

DEFAULT_STAGES: tuple[tuple[int, ...], ...] = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12))
"""Stages when no scheme says otherwise: the 邮储 plan's thirds (Jan–Apr, May–Aug, Sep–Dec)."""

_PATTERNS = {
    "day": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "stage": re.compile(r"^(\d{4})-S(\d{1,2})$"),
    "year": re.compile(r"^(\d{4})$"),
}


class PeriodError(ValueError):
    """A period that cannot be parsed."""


@dataclass(frozen=True, slots=True)
class Period:
    """Local calendar dates ``[start, end)`` and what kind of period they are.

    Attributes:
        start: First day.
        end: Day after the last day.
        kind: day, week, month, quarter, stage or year.
        label: The text it was parsed from (e.g. ``2026-S2``).
    """

    start: date
    end: date
    kind: str
    label: str

    def contains(self, when: datetime, tz: ZoneInfo) -> bool:
        """Whether an aware time falls on a local day of the period."""
        return self.start <= when.astimezone(tz).date() < self.end

    @property
    def months(self) -> tuple[int, ...]:
        """Calendar months the period touches."""
        out: list[int] = []
        day = self.start.replace(day=1)
        while day < self.end:
            out.append(day.month)
            day = _add_months(day, 1)
        return tuple(out)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(text: str, stages: Sequence[Sequence[int]] | None = None) -> Period:
    """Parse a period.

    Args:
        text: ``2026-11-22`` (day), ``2026-W47`` (ISO week), ``2026-11`` (month),
            ``2026-Q4`` (quarter), ``2026-S2`` (stage), ``2026`` (year).
        stages: Months of each stage, in order (a scheme's stages); default the thirds of
            :data:`DEFAULT_STAGES`. A stage's months must be consecutive.

    Returns:
        The period.

    Raises:
        PeriodError: Unknown format or out-of-range numbers.

    Example:
        >>> p = parse_period("2026-S2")
        >>> p.start, p.end, p.kind
        (datetime.date(2026, 5, 1), datetime.date(2026, 9, 1), 'stage')
    """
    text = text.strip()
    for kind, pattern in _PATTERNS.items():
        m = pattern.match(text)
        if m is None:
            continue
        nums = [int(g) for g in m.groups()]
        try:
            start, end = _bounds(kind, nums, stages or DEFAULT_STAGES)
        except ValueError as exc:
            raise PeriodError(f"period {text!r}: {exc}") from exc
        return Period(start=start, end=end, kind=kind, label=text)
    raise PeriodError(
        f"period {text!r}: expected 2026-11-22, 2026-W47, 2026-11, 2026-Q4, 2026-S2 or 2026"
    )


def _bounds(kind: str, nums: list[int], stages: Sequence[Sequence[int]]) -> tuple[date, date]:
    year = nums[0]
    if kind == "day":
        start = date(year, nums[1], nums[2])
        return start, start + timedelta(days=1)
    if kind == "week":
        start = date.fromisocalendar(year, nums[1], 1)
        return start, start + timedelta(days=7)
    if kind == "month":
        start = date(year, nums[1], 1)
        return start, _add_months(start, 1)
    if kind == "quarter":
        start = date(year, 3 * nums[1] - 2, 1)
        return start, _add_months(start, 3)
    if kind == "stage":
        if not 1 <= nums[1] <= len(stages):
            raise ValueError(f"stage {nums[1]} does not exist; there are {len(stages)}")
        months = sorted(stages[nums[1] - 1])
        if months != list(range(months[0], months[0] + len(months))):
            raise ValueError(f"stage months {months} are not consecutive")
        start = date(year, months[0], 1)
        return start, _add_months(start, len(months))
    return date(year, 1, 1), date(year + 1, 1, 1)
