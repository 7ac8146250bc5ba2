"""Scorecards as rows for table/json/csv output."""

from __future__ import annotations

from rules.periods import parse_period
from rules.score_table import (
    DEDUCTION_HEADERS,
    FINAL_LABEL,
    PREVIEW_LABEL,
    SUMMARY_HEADERS,
    deduction_rows,
    summary_rows,
)
from rules.scoring import score_period
from rules.standard import load_scheme
from rules.types import EventStatus
from tests.rules.factories import ev

PSBC = load_scheme("psbc")


def test_rows() -> None:
    """Rows for table/json/csv output, with the events behind each deduction."""
    records = [ev("GUARD_POSTURE", "2026-05-06 10:00"), ev("GUARD_POSTURE", "2026-05-07 10:00")]
    cards, _ = score_period(records, PSBC, parse_period("2026-05"), branches=["b1", "b2"])
    summary = summary_rows(cards)
    assert [r["branch"] for r in summary] == ["b2", "b1"]
    assert summary[1]["score"] == 98 and summary[1]["rank"] == "2/2" and summary[1]["target"] == 95
    (row,) = deduction_rows(cards)
    assert row["name"] == "保安坐姿不端正" and row["money"] == 700
    assert row["events"].split() == [r.key for r in records]
    assert set(summary[0]) == set(SUMMARY_HEADERS)
    assert set(row) == set(DEDUCTION_HEADERS)


def test_preview_rows_are_labelled() -> None:
    """A preview with pending events is clearly labelled as such."""
    records = [ev("GUARD_POSTURE", "2026-05-06 10:00", status=EventStatus.PENDING)]
    final, _ = score_period(records, PSBC, parse_period("2026-05"), branches=["b1"])
    preview, _ = score_period(records, PSBC, parse_period("2026-05"), branches=["b1"], preview=True)
    assert (
        summary_rows(final)[0]["status"] == FINAL_LABEL and summary_rows(final)[0]["score"] == 100
    )
    assert summary_rows(preview)[0]["status"] == PREVIEW_LABEL
    assert summary_rows(preview)[0]["score"] == 99
