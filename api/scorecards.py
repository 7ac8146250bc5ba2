"""Scorecards from the store: stored events → ``rules.scoring`` for a scheme and period."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.db.models import EventRecord
from api.db.session import make_engine, session_scope
from api.store import EventFilter, Store, require_known
from rules.coverage import MANUAL_RULE_VERSION
from rules.periods import Period, parse_period
from rules.scoring import Ranking, Scorecard, ScoredEvent, score_period
from rules.standard import Scheme, load_scheme
from rules.types import EventStatus

logger = logging.getLogger(__name__)

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


def scored_event(event: EventRecord, status: EventStatus | None = None) -> ScoredEvent:
    """What scoring needs of a stored event (its own review status unless ``status``)."""
    return ScoredEvent(
        item=event.item,
        branch=event.branch_id,
        start=event.start_ts,
        status=EventStatus(event.status) if status is None else status,
        key=event.key,
        manual=event.rule_version == MANUAL_RULE_VERSION,
    )


def scheme_period(scheme_name: str, period: str) -> tuple[Scheme, Period]:
    """Load a scheme and parse a period with the scheme's stages."""
    scheme = load_scheme(scheme_name)
    stages = [s.months for s in scheme.stages] or None
    return scheme, parse_period(period, stages)


@dataclass(frozen=True)
class ScoreQuery:
    """Which scorecards: scheme preset or path, period text (``2026-11``, ``2026-W47`` …),
    one branch only (the ranking still spans all), and whether pending events count too."""

    scheme: str
    period: str
    branch: str | None = None
    preview: bool = False


def scorecards(session: Session, query: ScoreQuery) -> tuple[tuple[Scorecard, ...], Ranking]:
    """Score every stored branch (or one) for a period, each in its own time zone.

    Events before the period are read too: they decide whether a finding is a repeat.
    """
    scheme, per = scheme_period(query.scheme, query.period)
    store = Store(session)
    zones = store.branch_timezones()
    require_known("branch", query.branch, zones)
    latest = max(zones.values(), key=lambda z: -_utc_offset_s(z, per.end), default=DEFAULT_TZ)
    until = datetime.combine(per.end, time.min, latest)
    records = [scored_event(e) for e in store.list_events(EventFilter(until=until))]
    cards, ranking = score_period(
        records,
        scheme,
        per,
        branches=sorted(zones),
        tz=zones,
        preview=query.preview,
        video=store.branch_video_items(),
    )
    if query.branch is not None:
        cards = tuple(c for c in cards if c.branch == query.branch)
    return cards, ranking


def _utc_offset_s(zone: ZoneInfo, day: date) -> float:
    offset = datetime.combine(day, time.min, zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def scorecards_for(db_url: str, query: ScoreQuery) -> tuple[tuple[Scorecard, ...], Ranking]:
    """:func:`scorecards` of the store at ``db_url`` (a one-off command: its engine is closed)."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            return scorecards(session, query)
    finally:
        engine.dispose()
