"""Appeals (申诉): a branch contests a confirmed event; another supervisor decides.

A branch account may appeal a confirmed event of its own branch, with a reason, until
``appeal_working_days`` working days after the event was confirmed. A supervisor of the branch
who did not confirm the event upholds it (it stays confirmed) or overturns it (it becomes
dismissed, with a review row, so it leaves the score and every notice generated from then on;
notices already issued keep what they said). Each step is audited.
"""

from __future__ import annotations

import logging
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import AuditAction, Principal, Role, record_audit
from api.db.loop_models import Appeal
from api.db.models import EventRecord, Review, utcnow
from api.db.session import begin_write
from api.notices.lifecycle import (
    RectificationSettings,
    StepConflict,
    StepInvalid,
    StepNotAllowed,
    branch_date,
    branch_today,
)
from api.notify.outbox import notify
from api.notify.topics import Topic
from rules.calendar import add_working_days
from rules.types import EventStatus

logger = logging.getLogger(__name__)

MAX_REASON_CHARS = 2000
OVERTURN_ACTION = "overturn"


class AppealState(StrEnum):
    """Where an appeal stands."""

    OPEN = "open"
    UPHELD = "upheld"
    OVERTURNED = "overturned"


def _confirmation(db: Session, event: EventRecord) -> Review | None:
    """The review that last confirmed the event."""
    return db.scalars(
        select(Review)
        .where(Review.event_id == event.id, Review.after_status == EventStatus.CONFIRMED.value)
        .order_by(Review.created_at.desc(), Review.id.desc())
    ).first()


def appeal_deadline(
    db: Session, event: EventRecord, settings: RectificationSettings
) -> date | None:
    """Last day the event may be appealed (``None`` if it is not confirmed)."""
    confirmed = _confirmation(db, event)
    if event.status != EventStatus.CONFIRMED.value or confirmed is None:
        return None
    confirmed_on = branch_date(db, event.branch_id, confirmed.created_at)
    return add_working_days(confirmed_on, settings.appeal_working_days)


def file_appeal(
    db: Session,
    principal: Principal,
    event: EventRecord,
    reason: str,
    settings: RectificationSettings,
    ip: str,
) -> Appeal:
    """The branch appeals a confirmed event of its own.

    Raises:
        StepNotAllowed: Not the branch's own account.
        StepConflict: The event is not confirmed, was appealed already, or the deadline passed.
        StepInvalid: No reason.
    """
    begin_write(db)
    db.refresh(event)
    if principal.role is not Role.BRANCH or event.branch_id not in principal.branches:
        raise StepNotAllowed("只有本网点账号可以对本网点事件提出申诉")
    reason = reason.strip()[:MAX_REASON_CHARS]
    if not reason:
        raise StepInvalid("请写明申诉理由")
    deadline = appeal_deadline(db, event, settings)
    if deadline is None:
        raise StepConflict("只能对已确认的事件提出申诉")
    if db.scalar(select(Appeal.id).where(Appeal.event_id == event.id)) is not None:
        raise StepConflict("该事件已提出过申诉")
    if branch_today(db, event.branch_id) > deadline:
        raise StepConflict(f"申诉期限（{deadline.isoformat()}）已过")
    appeal = Appeal(
        event_id=event.id, branch_id=event.branch_id, reason=reason, filed_by=principal.username
    )
    db.add(appeal)
    db.flush()
    record_audit(
        db,
        AuditAction.APPEAL_FILED,
        principal=principal,
        target=f"event:{event.id}",
        branch_id=event.branch_id,
        after={"state": appeal.state, "reason": reason},
        ip=ip,
    )
    notify(
        db,
        Topic.APPEAL_FILED,
        event.branch_id,
        f"网点 {event.branch_id} 对事件 #{event.id} 提出申诉",
        f"网点 {event.branch_id} 对已确认事件 #{event.id}（{event.item}）提出申诉：{reason}",
        key=f"appeal:{appeal.id}",
    )
    return appeal


def decide_appeal(
    db: Session, principal: Principal, appeal: Appeal, *, overturn: bool, reason: str, ip: str
) -> EventRecord:
    """A supervisor who did not confirm the event upholds or overturns it.

    Raises:
        StepNotAllowed: The caller does not review the branch, or confirmed the event.
        StepConflict: The appeal is decided already.
        StepInvalid: No reason.
    """
    begin_write(db)
    db.refresh(appeal)
    if not principal.can_review(appeal.branch_id):
        raise StepNotAllowed("无权裁决该网点的申诉")
    if appeal.state != AppealState.OPEN:
        raise StepConflict("该申诉已裁决")
    event = db.get(EventRecord, appeal.event_id)
    if event is None:
        raise StepConflict(f"事件 {appeal.event_id} 不存在")
    confirmed = _confirmation(db, event)
    if confirmed is not None and confirmed.reviewer == principal.username:
        raise StepNotAllowed("确认该事件的督导不能裁决其申诉")
    reason = reason.strip()[:MAX_REASON_CHARS]
    if not reason:
        raise StepInvalid("请写明裁决理由")
    before = {"state": appeal.state, "status": event.status}
    now = utcnow()
    appeal.state = (AppealState.OVERTURNED if overturn else AppealState.UPHELD).value
    appeal.decided_by, appeal.decided_at, appeal.decision_reason = principal.username, now, reason
    if overturn and event.status == EventStatus.CONFIRMED.value:
        db.add(
            Review(
                event_id=event.id,
                reviewer=principal.username,
                action=OVERTURN_ACTION,
                before_status=event.status,
                after_status=EventStatus.DISMISSED.value,
                reason=f"申诉成立：{reason}",
                created_at=now,
            )
        )
        event.status = EventStatus.DISMISSED.value
    record_audit(
        db,
        AuditAction.APPEAL_OVERTURNED if overturn else AuditAction.APPEAL_UPHELD,
        principal=principal,
        target=f"event:{event.id}",
        branch_id=event.branch_id,
        before=before,
        after={"state": appeal.state, "status": event.status, "reason": reason},
        ip=ip,
    )
    return event


def visible_appeals(db: Session, principal: Principal) -> list[Appeal]:
    """Appeals the caller may see, open ones first, newest first."""
    query = select(Appeal).order_by(Appeal.state != AppealState.OPEN.value, Appeal.id.desc())
    branches = principal.visible_branches
    if branches is not None:
        query = query.where(Appeal.branch_id.in_(sorted(branches)))
    return list(db.scalars(query))
