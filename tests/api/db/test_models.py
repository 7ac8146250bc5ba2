"""Tests of api/db/models.py: timezone-aware times round-trip on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from api.db.models import Branch, EventRecord, Run
from api.db.session import make_engine, session_scope, upgrade

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _run(started: datetime) -> Run:
    return Run(started_at=started, pipeline_version="p1", config_path="site.yaml")


@pytest.mark.parametrize(
    "started",
    [
        datetime(2026, 11, 22, 9, 42, 10, tzinfo=SHANGHAI),
        datetime(2026, 11, 22, 9, 42, 10, 123456, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 11, 22, 1, 42, 10, tzinfo=UTC),
    ],
)
def test_aware_datetime_round_trips_as_the_same_instant_in_utc(
    session: Session, started: datetime
) -> None:
    run = _run(started)
    session.add(run)
    session.commit()
    session.expire_all()
    loaded = session.get(Run, run.id)
    assert loaded is not None
    assert loaded.started_at == started
    assert loaded.started_at.utcoffset() == timedelta(0)


def test_session_time_zone_does_not_change_what_is_read(session: Session, db_backend: str) -> None:
    started = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)
    run = _run(started)
    session.add(run)
    session.flush()
    if db_backend == "postgresql":
        session.execute(text("SET LOCAL TIME ZONE 'America/New_York'"))
    session.expire_all()
    stored = session.scalars(select(Run.started_at).where(Run.id == run.id)).one()
    assert stored == started
    assert stored.tzinfo == UTC


def test_sqlite_stores_utc_text(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bw.db'}")
    try:
        upgrade(engine)
        with session_scope(engine) as sess:
            run = _run(datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI))
            sess.add(run)
            sess.flush()
            raw = sess.execute(text("SELECT started_at FROM runs WHERE id = :id"), {"id": run.id})
            assert raw.scalar_one().startswith("2026-11-22 01:00:00")
    finally:
        engine.dispose()


def test_comparisons_in_queries_use_the_instant(session: Session) -> None:
    session.add(Branch(id="b1", name="城东支行", timezone="Asia/Shanghai"))
    start = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)
    session.add(
        EventRecord(
            key="k1",
            item="LOBBY_MANAGER_ABSENT",
            branch_id="b1",
            camera_id="cam1",
            start_ts=start,
            end_ts=start + timedelta(minutes=5),
            rule_version="1",
            detector_version="d1",
        )
    )
    session.flush()
    same_instant_utc = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    query = select(EventRecord.key).where(EventRecord.start_ts >= same_instant_utc)
    assert session.scalars(query).all() == ["k1"]
    later = same_instant_utc + timedelta(seconds=1)
    assert session.scalars(select(EventRecord.key).where(EventRecord.start_ts >= later)).all() == []


def test_naive_datetime_is_refused(session: Session) -> None:
    session.add(_run(datetime(2026, 11, 22, 9, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
