"""Scores of the overview: confirmed events of a period scored under the configured scheme."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.scorecards import DEFAULT_TZ, ScoreQuery, scorecards
from rules.scoring import Scorecard

logger = logging.getLogger(__name__)


class ScoreError(ValueError):
    """The period or the scheme cannot be read (the message says which and why)."""


def current_month(zones: Iterable[ZoneInfo]) -> str:
    """The running month as a period (``2026-11``) in the first branch's time zone."""
    return datetime.now(next(iter(zones), DEFAULT_TZ)).strftime("%Y-%m")


def period_scores(db: Session, scheme: str, period: str) -> dict[str, Scorecard]:
    """Each branch's scorecard of a period, by branch id (confirmed events only), read in the
    request's session (the service's one engine).

    Raises:
        ScoreError: Unknown period format or unreadable scheme.
    """
    try:
        cards, _ = scorecards(db, ScoreQuery(scheme, period))
    except ValueError as exc:  # PeriodError, StandardError
        raise ScoreError(str(exc)) from exc
    return {card.branch: card for card in cards}
