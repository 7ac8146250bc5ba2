"""Reads of the review service, always limited to the branches the caller may see."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, false, func, or_, select, true, tuple_
from sqlalchemy.orm import Session

from api.auth import Principal, Role
from api.db.auth_models import AuditLog
from api.db.models import Branch, Camera, EventRecord, Notice
from api.schemas.branches import BranchPublic, NoticeSummary
from rules.periods import Period
from rules.scoring import Scorecard
from rules.types import EventStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Filters of the review queue; ``None`` does not filter.

    Attributes:
        branch: Branch id.
        camera: Camera id.
        item: Inspection item code.
        status: Review status.
        day: Business day, in each branch's own time zone.
    """

    branch: str | None = None
    camera: str | None = None
    item: str | None = None
    status: EventStatus | None = None
    day: date | None = None


def visible_branches(db: Session, principal: Principal) -> list[Branch]:
    """Branches the caller may see, by id."""
    query = select(Branch).order_by(Branch.id)
    if principal.visible_branches is not None:
        query = query.where(Branch.id.in_(sorted(principal.visible_branches)))
    return list(db.scalars(query))


def _day_condition(branches: list[Branch], day: date) -> Any:
    """Events starting on ``day`` in the time zone of their own branch."""
    return _span_condition(branches, day, day + timedelta(days=1))


def _span_condition(branches: list[Branch], first: date, end: date) -> Any:
    """Events starting on the days ``[first, end)`` in the time zone of their own branch."""
    parts = []
    for branch in branches:
        tz = ZoneInfo(branch.timezone)
        parts.append(
            and_(
                EventRecord.branch_id == branch.id,
                EventRecord.start_ts >= datetime.combine(first, time(0), tz),
                EventRecord.start_ts < datetime.combine(end, time(0), tz),
            )
        )
    return or_(*parts) if parts else false()


def latest_period(db: Session, principal: Principal) -> str | None:
    """The month (``2026-11``) of the newest event the caller may see, in its branch's zone."""
    query = select(EventRecord.start_ts, Branch.timezone).join(
        Branch, Branch.id == EventRecord.branch_id
    )
    if principal.visible_branches is not None:
        query = query.where(EventRecord.branch_id.in_(sorted(principal.visible_branches)))
    row = db.execute(query.order_by(EventRecord.start_ts.desc()).limit(1)).first()
    if row is None:
        return None
    return row[0].astimezone(ZoneInfo(row[1])).strftime("%Y-%m")


def _conditions(db: Session, principal: Principal, q: EventQuery) -> list[Any]:
    conds: list[Any] = []
    if principal.visible_branches is not None:
        conds.append(EventRecord.branch_id.in_(sorted(principal.visible_branches)))
    if q.branch is not None:
        conds.append(EventRecord.branch_id == q.branch)
    if q.camera is not None:
        conds.append(EventRecord.camera_id == q.camera)
    if q.item is not None:
        conds.append(EventRecord.item == q.item)
    if q.status is not None:
        conds.append(EventRecord.status == q.status.value)
    if q.day is not None:
        branches = visible_branches(db, principal)
        if q.branch is not None:
            branches = [b for b in branches if b.id == q.branch]
        conds.append(_day_condition(branches, q.day))
    return conds


def _ordered(conds: list[Any]) -> Select[EventRecord]:
    return (
        select(EventRecord)
        .where(and_(true(), *conds))
        .order_by(EventRecord.start_ts, EventRecord.id)
    )


def list_events(
    db: Session, principal: Principal, q: EventQuery, limit: int, offset: int
) -> tuple[list[EventRecord], int]:
    """A page of the events matching ``q`` in queue order, and how many match in all."""
    conds = _conditions(db, principal, q)
    count = int(db.scalar(select(func.count(EventRecord.id)).where(and_(true(), *conds))) or 0)
    rows = list(db.scalars(_ordered(conds).limit(limit).offset(offset)))
    return rows, count


def next_event(
    db: Session, principal: Principal, q: EventQuery, after: EventRecord
) -> EventRecord | None:
    """The first event matching ``q`` that comes after ``after`` in queue order."""
    conds = _conditions(db, principal, q)
    conds.append(tuple_(EventRecord.start_ts, EventRecord.id) > tuple_(after.start_ts, after.id))
    return db.scalars(_ordered(conds).limit(1)).first()


def cameras_of(db: Session, principal: Principal) -> list[Camera]:
    """Cameras of the branches the caller may see."""
    query = select(Camera).order_by(Camera.branch_id, Camera.camera_id)
    if principal.visible_branches is not None:
        query = query.where(Camera.branch_id.in_(sorted(principal.visible_branches)))
    return list(db.scalars(query))


def items_of(db: Session, principal: Principal) -> list[str]:
    """Inspection items that occur among the caller's events."""
    query = select(EventRecord.item).distinct().order_by(EventRecord.item)
    if principal.visible_branches is not None:
        query = query.where(EventRecord.branch_id.in_(sorted(principal.visible_branches)))
    return list(db.scalars(query))


def branch_summaries(
    db: Session, principal: Principal, scores: Mapping[str, Scorecard], period: Period | None
) -> list[BranchPublic]:
    """Each visible branch with its review counts in the period, score and newest notice."""
    branches = visible_branches(db, principal)
    ids = [b.id for b in branches]
    query = select(EventRecord.branch_id, EventRecord.status, func.count(EventRecord.id)).where(
        EventRecord.branch_id.in_(ids)
    )
    if period is not None:
        query = query.where(_span_condition(branches, period.start, period.end))
    counts: dict[tuple[str, str], int] = {
        (branch, state): int(n)
        for branch, state, n in db.execute(
            query.group_by(EventRecord.branch_id, EventRecord.status)
        )
    }
    newest: dict[str, Notice] = {}
    for row in db.scalars(
        select(Notice)
        .where(Notice.branch_id.in_(ids), Notice.preview.is_(False))
        .order_by(Notice.created_at)
    ):
        newest[row.branch_id] = row
    out = []
    for b in branches:
        notice = newest.get(b.id)
        card = scores.get(b.id)
        out.append(
            BranchPublic(
                id=b.id,
                name=b.name,
                timezone=b.timezone,
                pending=counts.get((b.id, EventStatus.PENDING.value), 0),
                confirmed=counts.get((b.id, EventStatus.CONFIRMED.value), 0),
                dismissed=counts.get((b.id, EventStatus.DISMISSED.value), 0),
                score=card.score if card is not None else None,
                deducted=card.deducted if card is not None else None,
                money=card.penalty_total if card is not None else None,
                rank=card.rank if card is not None else None,
                latest_notice=NoticeSummary(
                    number=notice.number,
                    period=notice.period,
                    total_points=notice.total_points,
                    total_money=notice.total_money,
                    created_at=notice.created_at,
                )
                if notice is not None
                else None,
            )
        )
    return out


def branch_timezones(db: Session) -> dict[str, ZoneInfo]:
    """Time zone of every branch, to show times as the branch sees them."""
    return {b: ZoneInfo(tz) for b, tz in db.execute(select(Branch.id, Branch.timezone))}


def audit_entries(
    db: Session, principal: Principal, limit: int, offset: int
) -> tuple[list[AuditLog], int]:
    """Audit records the caller may read, newest first: admins all; supervisors those of their
    branches and their own. Branch accounts read none."""
    if principal.role is Role.ADMIN:
        cond: Any = true()
    elif principal.can_read_audit:
        cond = or_(
            AuditLog.branch_id.in_(sorted(principal.branches)),
            AuditLog.user_id == principal.user_id,
        )
    else:
        cond = false()
    count = int(db.scalar(select(func.count(AuditLog.id)).where(cond)) or 0)
    rows = list(
        db.scalars(
            select(AuditLog)
            .where(cond)
            .order_by(AuditLog.ts.desc(), AuditLog.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return rows, count
