"""Scores of the overview: confirmed events of a period scored under the configured scheme."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.auth import Principal
from api.scorecards import DEFAULT_TZ, ScoreQuery, scheme_period, scorecards
from api.service.queries import branch_timezones, latest_period
from rules.periods import Period
from rules.scoring import Scorecard

logger = logging.getLogger(__name__)


class ScoreError(ValueError):
    """The period or the scheme cannot be read (the message says which and why)."""


def shown_period(db: Session, principal: Principal, requested: str | None) -> str:
    """The period a page shows: the one asked for, else the month of the newest event the
    caller may see, else the running month."""
    return requested or latest_period(db, principal) or current_month(branch_timezones(db).values())


def current_month(zones: Iterable[ZoneInfo]) -> str:
    """The running month as a period (``2026-11``) in the first branch's time zone."""
    return datetime.now(next(iter(zones), DEFAULT_TZ)).strftime("%Y-%m")


def period_scores(db: Session, scheme: str, period: str) -> tuple[dict[str, Scorecard], Period]:
    """Each branch's scorecard of a period, by branch id (confirmed events only), read in the
    request's session (the service's one engine), and the period itself.

    Raises:
        ScoreError: Unknown period format or unreadable scheme.
    """
    try:
        per = scheme_period(scheme, period)[1]
        cards, _ = scorecards(db, ScoreQuery(scheme, period))
    except ValueError as exc:  # PeriodError, StandardError
        raise ScoreError(str(exc)) from exc
    return {card.branch: card for card in cards}, per
