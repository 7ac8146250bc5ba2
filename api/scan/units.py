"""Durable units of scan work in the store: plan, claim, heartbeat, finish, release.

A unit is one export file analysed by one pipeline version (a :class:`api.db.models.ScanUnit`
row, unique by ``(sha256, pipeline_version)``). Several drivers, on one machine or many, may
work on the same store: a unit is claimed by one driver at a time with
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite takes the write lock first, which
serialises claims). A claim whose owner stopped heart-beating, or whose owner process on this
host is gone (kill -9), is taken over and the unit redone from scratch. Every call runs in its
own transaction and is retried when the database connection drops (a restarted server).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from api.db.models import ScanUnit, utcnow
from api.db.session import SQLITE_IMMEDIATE, session_scope

logger = logging.getLogger(__name__)

T = TypeVar("T")

LEASE_S = 120.0
"""A running unit whose heartbeat is older than this is taken over by another driver."""
MAX_ATTEMPTS = 3
"""Claims of a unit before a transient failure becomes final."""
RETRY_BACKOFF_S = (2.0, 8.0, 30.0)
"""Wait before the n-th retry of a unit that failed for a transient reason."""
DB_RETRY_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
"""Waits between attempts of a store call whose connection dropped (about 30 s in all)."""


class UnitState(StrEnum):
    """Life cycle of a unit."""

    PLANNED = "planned"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


TERMINAL = (UnitState.DONE.value, UnitState.FAILED.value)


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """An export file to plan as a unit, with the pipeline version of its camera."""

    path: str
    sha256: str
    size: int
    branch: str
    camera: str
    start: datetime
    end: datetime | None
    version: str


@dataclass(frozen=True, slots=True)
class Claim:
    """A unit this driver now owns."""

    unit_id: int
    path: str
    sha256: str
    size: int
    branch: str
    camera: str
    start: datetime
    end: datetime | None
    attempt: int
    version: str


def owner_id() -> str:
    """Identity of this driver process: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None) -> bool:
    """Whether a claim's owner may still be working (unknown hosts count as alive)."""
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def with_db_retry(engine: Engine, work: Callable[[Session], T], what: str) -> T:
    """Run ``work`` in one transaction, retrying on a dropped connection or a busy database.

    ``work`` must be idempotent: a commit whose acknowledgement was lost is run again.

    Args:
        engine: The store.
        work: Reads and writes of one transaction.
        what: Description for log messages.

    Returns:
        What ``work`` returns.

    Raises:
        OperationalError: The database stayed unreachable through every retry.
    """
    for attempt, wait_s in enumerate((*DB_RETRY_S, None)):
        try:
            with session_scope(engine.execution_options(**{SQLITE_IMMEDIATE: True})) as session:
                return work(session)
        except DBAPIError as exc:
            if wait_s is None or not _transient(exc):
                raise
            logger.warning(
                "%s: database connection lost (attempt %d), retrying in %.1f s: %s",
                what,
                attempt + 1,
                wait_s,
                str(exc.orig).strip().splitlines()[0] if exc.orig else exc,
            )
            engine.dispose()
            time.sleep(wait_s)
    raise AssertionError("unreachable")  # pragma: no cover


def plan_units(engine: Engine, files: Sequence[PlannedFile], run_id: int) -> list[int]:
    """Record one unit per file and version (existing units are kept) and return their ids.

    Units that failed for a transient reason get a fresh set of attempts; units that failed on
    bad input stay failed (a changed file has another hash, hence another unit).
    """

    def work(session: Session) -> list[int]:
        ids: list[int] = []
        for f in files:
            unit = session.scalars(
                select(ScanUnit).where(
                    ScanUnit.sha256 == f.sha256, ScanUnit.pipeline_version == f.version
                )
            ).one_or_none()
            if unit is None:
                unit = ScanUnit(
                    sha256=f.sha256,
                    pipeline_version=f.version,
                    path=f.path,
                    size=f.size,
                    branch_id=f.branch,
                    camera_id=f.camera,
                    start_ts=f.start,
                    end_ts=f.end,
                    state=UnitState.PLANNED.value,
                    attempts=0,
                    bad_input=False,
                    run_id=run_id,
                    updated_at=utcnow(),
                )
                session.add(unit)
                session.flush()
            elif unit.state == UnitState.FAILED.value and not unit.bad_input:
                unit.state, unit.attempts, unit.retry_at = UnitState.PLANNED.value, 0, None
                unit.run_id, unit.updated_at = run_id, utcnow()
            ids.append(unit.id)
        return ids

    return with_db_retry(engine, work, "planning units")


def claim_unit(
    engine: Engine, unit_ids: Sequence[int], owner: str, lease_s: float = LEASE_S
) -> Claim | None:
    """Take the next unit of ``unit_ids`` that is planned, or whose owner is gone.

    Returns:
        The claimed unit, or ``None`` when none is available now.
    """

    def take(unit: ScanUnit, now: datetime) -> Claim:
        unit.state, unit.owner = UnitState.RUNNING.value, owner
        unit.heartbeat_at = unit.updated_at = now
        unit.attempts += 1
        return Claim(
            unit.id,
            unit.path,
            unit.sha256,
            unit.size,
            unit.branch_id,
            unit.camera_id,
            unit.start_ts,
            unit.end_ts,
            unit.attempts,
            unit.pipeline_version,
        )

    def work(session: Session) -> Claim | None:
        now = utcnow()
        mine = ScanUnit.id.in_(unit_ids)
        planned = session.scalars(
            select(ScanUnit)
            .where(
                mine,
                ScanUnit.state == UnitState.PLANNED.value,
                or_(ScanUnit.retry_at.is_(None), ScanUnit.retry_at <= now),
            )
            .order_by(ScanUnit.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).one_or_none()
        if planned is not None:
            return take(planned, now)
        stale = now - timedelta(seconds=lease_s)
        running = session.scalars(
            select(ScanUnit)
            .where(mine, ScanUnit.state == UnitState.RUNNING.value)
            .order_by(ScanUnit.id)
            .with_for_update(skip_locked=True)
        ).all()
        for unit in running:
            beat = unit.heartbeat_at
            if owner_alive(unit.owner) and beat is not None and beat > stale:
                continue
            logger.warning(
                "unit %d (%s) was left running by %s; redoing it", unit.id, unit.path, unit.owner
            )
            return take(unit, now)
        return None

    return with_db_retry(engine, work, "claiming a unit")


def heartbeat(engine: Engine, unit_ids: Sequence[int], owner: str) -> None:
    """Tell other drivers this one still works on ``unit_ids``."""
    if not unit_ids:
        return

    def work(session: Session) -> None:
        session.execute(
            update(ScanUnit)
            .where(
                ScanUnit.id.in_(unit_ids),
                ScanUnit.owner == owner,
                ScanUnit.state == UnitState.RUNNING.value,
            )
            .values(heartbeat_at=utcnow())
        )

    with_db_retry(engine, work, "heartbeat")


def owns(session: Session, unit_id: int, owner: str) -> ScanUnit | None:
    """The unit, locked, if this owner still holds it (another driver may have taken it over)."""
    unit = session.scalars(select(ScanUnit).where(ScanUnit.id == unit_id).with_for_update()).one()
    if unit.state != UnitState.RUNNING.value or unit.owner != owner:
        logger.warning("unit %d was taken over by %s; dropping this result", unit_id, unit.owner)
        return None
    return unit


def mark_done(unit: ScanUnit, video_id: int, run_id: int) -> None:
    """Set a locked, owned unit to done (inside the caller's transaction)."""
    unit.state, unit.video_id, unit.run_id = UnitState.DONE.value, video_id, run_id
    unit.reason, unit.owner, unit.retry_at, unit.updated_at = None, None, None, utcnow()


def mark_failed(unit: ScanUnit, reason: str, *, bad_input: bool, run_id: int) -> bool:
    """Record a failed attempt of a locked, owned unit (inside the caller's transaction).

    Bad input fails the unit at once; other failures put it back to ``planned`` with a back-off
    until :data:`MAX_ATTEMPTS` claims are spent.

    Returns:
        True when the unit is now finally failed.
    """
    now = utcnow()
    unit.reason, unit.owner, unit.updated_at, unit.run_id = reason, None, now, run_id
    if bad_input or unit.attempts >= MAX_ATTEMPTS:
        unit.state, unit.bad_input, unit.retry_at = UnitState.FAILED.value, bad_input, None
        return True
    wait_s = RETRY_BACKOFF_S[min(unit.attempts, len(RETRY_BACKOFF_S)) - 1]
    unit.state, unit.retry_at = UnitState.PLANNED.value, now + timedelta(seconds=wait_s)
    logger.warning("unit %d (%s): %s; retry in %.0f s", unit.id, unit.path, reason, wait_s)
    return False


def open_units(engine: Engine, unit_ids: Sequence[int]) -> int:
    """How many of ``unit_ids`` are not finished yet (planned or running anywhere)."""

    def work(session: Session) -> int:
        states = session.scalars(select(ScanUnit.state).where(ScanUnit.id.in_(unit_ids))).all()
        return sum(1 for s in states if s not in TERMINAL)

    return with_db_retry(engine, work, "counting open units")


def load_units(engine: Engine, unit_ids: Sequence[int]) -> list[ScanUnit]:
    """The units, detached, ordered by id."""
    return with_db_retry(
        engine,
        lambda s: list(
            s.scalars(select(ScanUnit).where(ScanUnit.id.in_(unit_ids)).order_by(ScanUnit.id))
        ),
        "reading units",
    )
