"""Scoring periods."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from rules.periods import PeriodError, parse_period
from tests.rules.factories import SHANGHAI


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("2026-11-22", date(2026, 11, 22), date(2026, 11, 23), "day"),
        ("2026-W47", date(2026, 11, 16), date(2026, 11, 23), "week"),
        ("2026-11", date(2026, 11, 1), date(2026, 12, 1), "month"),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1), "month"),
        ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1), "quarter"),
        ("2026-S1", date(2026, 1, 1), date(2026, 5, 1), "stage"),  # 第一阶段:1月-4月
        ("2026-S2", date(2026, 5, 1), date(2026, 9, 1), "stage"),  # 第二阶段:5月-8月
        ("2026-S3", date(2026, 9, 1), date(2027, 1, 1), "stage"),  # 第三阶段:9月-12月
        ("2026", date(2026, 1, 1), date(2027, 1, 1), "year"),
    ],
)
def test_parse(text: str, start: date, end: date, kind: str) -> None:
    """服务质量提升分为三个阶段: 1月-4月, 5月-8月, 9月-12月."""
    p = parse_period(text)
    assert (p.start, p.end, p.kind, p.label) == (start, end, kind, text)


def test_scheme_stages() -> None:
    """A bank with half-year stages passes its own stage months."""
    p = parse_period("2026-S2", [(1, 2, 3, 4, 5, 6), (7, 8, 9, 10, 11, 12)])
    assert (p.start, p.end) == (date(2026, 7, 1), date(2027, 1, 1))
    assert p.months == (7, 8, 9, 10, 11, 12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "month must be in 1..12"),
        ("2026-W54", "week"),
        ("2026-S4", "stage 4 does not exist"),
        ("2026-02-30", "day is out of range"),
        ("November", "expected 2026-11-22"),
    ],
)
def test_errors(text: str, message: str) -> None:
    """Bad periods are named."""
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


def test_contains_uses_local_dates() -> None:
    """A finding at 07:30 Beijing time on the 1st belongs to the 1st (not UTC's 31st)."""
    p = parse_period("2026-11")
    assert p.contains(datetime(2026, 11, 1, 7, 30, tzinfo=SHANGHAI), SHANGHAI)
    assert not p.contains(datetime(2026, 12, 1, 0, 30, tzinfo=SHANGHAI), SHANGHAI)
