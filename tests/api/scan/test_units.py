"""Durable units in the store: planning, claiming, take-over, retries (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.db.models import ScanUnit
from api.db.session import make_engine, session_scope, upgrade
from api.scan import units
from api.store import Store

START = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def _files(n: int, version: str = "v1") -> list[units.PlannedFile]:
    return [
        units.PlannedFile(
            path=f"/exports/ch01_{i}.mp4",
            sha256=f"{i:064x}",
            size=100 + i,
            branch="b1",
            camera="c1",
            start=START + timedelta(minutes=5 * i),
            end=None,
            version=version,
        )
        for i in range(n)
    ]


@pytest.fixture
def store_engine(fresh_db_url: str) -> Iterator[Engine]:
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with session_scope(engine) as session:
        run_id = Store(session).start_run("test.yaml", "v1")
    assert run_id == 1
    yield engine
    engine.dispose()


def _unit(engine: Engine, unit_id: int) -> ScanUnit:
    with session_scope(engine) as session:
        return session.get_one(ScanUnit, unit_id)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _set(engine: Engine, unit_id: int, **values: object) -> None:
    with session_scope(engine) as session:
        unit = session.get_one(ScanUnit, unit_id)
        for name, value in values.items():
            setattr(unit, name, value)


def test_planning_twice_keeps_one_unit_per_file(store_engine: Engine) -> None:
    first = units.plan_units(store_engine, _files(3), 1)
    again = units.plan_units(store_engine, _files(3), 1)
    other_version = units.plan_units(store_engine, _files(3, "v2"), 1)
    assert first == again
    assert set(other_version).isdisjoint(first)
    assert units.open_units(store_engine, first) == 3


def test_each_unit_is_claimed_once(store_engine: Engine) -> None:
    ids = units.plan_units(store_engine, _files(2), 1)
    a = units.claim_unit(store_engine, ids, units.owner_id())
    b = units.claim_unit(store_engine, ids, units.owner_id())
    assert a is not None and b is not None
    assert {a.unit_id, b.unit_id} == set(ids)
    assert (a.attempt, b.attempt) == (1, 1)
    assert units.claim_unit(store_engine, ids, units.owner_id()) is None


@pytest.mark.parametrize(
    ("owner", "beat_age_s", "taken_over"),
    [
        ("dead-local", 0.0, True),  # kill -9 of a driver on this host
        ("other-host", 0.0, False),  # another machine, heart-beating
        ("other-host", units.LEASE_S + 5, True),  # another machine that went silent
        ("self", 0.0, False),  # this driver
    ],
)
def test_running_units_are_taken_over_only_from_dead_owners(
    store_engine: Engine, owner: str, beat_age_s: float, taken_over: bool
) -> None:
    [uid] = units.plan_units(store_engine, _files(1), 1)
    holder = {
        "dead-local": f"{socket.gethostname()}:{_dead_pid()}",
        "other-host": "scanner-07:4242",
        "self": units.owner_id(),
    }[owner]
    assert units.claim_unit(store_engine, [uid], holder) is not None
    _set(store_engine, uid, heartbeat_at=datetime.now(UTC) - timedelta(seconds=beat_age_s))
    claim = units.claim_unit(store_engine, [uid], units.owner_id())
    assert (claim is not None) is taken_over
    if claim is not None:
        assert claim.attempt == 2
        assert _unit(store_engine, uid).owner == units.owner_id()


def _fail(engine: Engine, unit_id: int, owner: str, *, bad_input: bool) -> bool:
    def work(session: Session) -> bool:
        unit = units.owns(session, unit_id, owner)
        assert unit is not None
        return units.mark_failed(unit, "boom", bad_input=bad_input, run_id=1)

    return units.with_db_retry(engine, work, "test")


def test_transient_failures_back_off_then_fail_and_are_retried_by_a_new_plan(
    store_engine: Engine,
) -> None:
    me = units.owner_id()
    [uid] = units.plan_units(store_engine, _files(1), 1)
    for attempt in range(1, units.MAX_ATTEMPTS + 1):
        assert units.claim_unit(store_engine, [uid], me) is not None
        final = _fail(store_engine, uid, me, bad_input=False)
        assert final is (attempt == units.MAX_ATTEMPTS)
        if not final:
            assert units.claim_unit(store_engine, [uid], me) is None, "no back-off"
            _set(store_engine, uid, retry_at=datetime.now(UTC) - timedelta(seconds=1))
    assert _unit(store_engine, uid).state == "failed"
    units.plan_units(store_engine, _files(1), 1)
    assert (_unit(store_engine, uid).state, _unit(store_engine, uid).attempts) == ("planned", 0)


def test_bad_input_fails_at_once_and_stays_failed(store_engine: Engine) -> None:
    me = units.owner_id()
    [uid] = units.plan_units(store_engine, _files(1), 1)
    assert units.claim_unit(store_engine, [uid], me) is not None
    assert _fail(store_engine, uid, me, bad_input=True)
    units.plan_units(store_engine, _files(1), 1)
    unit = _unit(store_engine, uid)
    assert (unit.state, unit.bad_input, unit.reason) == ("failed", True, "boom")
    assert units.open_units(store_engine, [uid]) == 0


def test_a_result_of_a_taken_over_unit_is_dropped(store_engine: Engine) -> None:
    [uid] = units.plan_units(store_engine, _files(1), 1)
    assert units.claim_unit(store_engine, [uid], "scanner-07:1") is not None
    _set(store_engine, uid, owner="scanner-08:1")
    with session_scope(store_engine) as session:
        assert units.owns(session, uid, "scanner-07:1") is None


def test_store_calls_are_retried_when_the_connection_drops(store_engine: Engine) -> None:
    calls: list[int] = []

    def flaky(session: Session) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return int(session.execute(text("SELECT 7")).scalar_one())

    assert units.with_db_retry(store_engine, flaky, "test") == 7
    assert len(calls) == 2


@pytest.mark.postgres
def test_postgres_claims_skip_units_locked_by_another_driver(pg_url: str) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    try:
        with session_scope(engine) as session:
            run_id = Store(session).start_run("test.yaml", "v1")
        ids = units.plan_units(engine, _files(2), run_id)
        with engine.connect() as other:
            other.begin()
            other.execute(select(ScanUnit).where(ScanUnit.id == ids[0]).with_for_update())
            claim = units.claim_unit(engine, ids, units.owner_id())
            other.rollback()
    finally:
        engine.dispose()
    assert claim is not None and claim.unit_id == ids[1]
