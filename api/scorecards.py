"""Scorecards from the store: stored events → ``rules.scoring`` for a scheme and period."""

from __future__ import annotations

import logging
from datetime import datetime, time
from zoneinfo import ZoneInfo

from api.db.session import make_engine, session_scope
from api.store import EventFilter, Store, require_known
from rules.periods import Period, parse_period
from rules.scoring import Ranking, Scorecard, ScoredEvent, score_period
from rules.standard import Scheme, load_scheme
from rules.types import EventStatus

logger = logging.getLogger(__name__)

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


def scheme_period(scheme_name: str, period: str) -> tuple[Scheme, Period]:
    """Load a scheme and parse a period with the scheme's stages."""
    scheme = load_scheme(scheme_name)
    stages = [s.months for s in scheme.stages] or None
    return scheme, parse_period(period, stages)


def scorecards_for(
    db_url: str, scheme_name: str, period: str, branch: str | None, preview: bool
) -> tuple[tuple[Scorecard, ...], Ranking]:
    """Score every stored branch (or one) for a period.

    Events before the period are read too: they decide whether a finding is a repeat.

    Args:
        db_url: Store URL.
        scheme_name: Scheme preset name or path.
        period: Period text (``2026-11``, ``2026-W47``, ``2026-S2`` …).
        branch: Only this branch's scorecard (ranking still spans all branches).
        preview: Count pending events too (the scorecards say so).
    """
    scheme, per = scheme_period(scheme_name, period)
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        store = Store(session)
        zones = store.branch_timezones()
        require_known("branch", branch, zones)
        tz = next(iter(zones.values()), DEFAULT_TZ)
        until = datetime.combine(per.end, time.min, tz)
        records = [
            ScoredEvent(
                item=e.item,
                branch=e.branch_id,
                start=e.start_ts,
                status=EventStatus(e.status),
                key=e.key,
            )
            for e in store.list_events(EventFilter(until=until))
        ]
    cards, ranking = score_period(
        records, scheme, per, branches=sorted(zones), tz=tz, preview=preview
    )
    if branch is not None:
        cards = tuple(c for c in cards if c.branch == branch)
    return cards, ranking
