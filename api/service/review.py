"""Review decisions: change an event's status or item, with a review row and an audit record.

Events are never deleted; every decision adds a :class:`api.db.models.Review` row and an
:class:`api.db.auth_models.AuditLog` record holding the state before and after.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from api.auth import AuditAction, Principal, record_audit
from api.db.models import EventRecord, Review, utcnow
from api.db.session import begin_write
from api.schemas.events import RelabelReview, ReviewAction, ReviewCreate
from rules.types import EventStatus

logger = logging.getLogger(__name__)

TARGET_STATUS = {
    ReviewAction.CONFIRM: EventStatus.CONFIRMED,
    ReviewAction.DISMISS: EventStatus.DISMISSED,
    ReviewAction.REOPEN: EventStatus.PENDING,
}


class ReviewConflict(Exception):
    """The event is not in the state the reviewer saw, or the decision changes nothing."""


class ReviewNotAllowed(Exception):
    """The caller may see the event but not review it (a branch account, another branch)."""


def _state(event: EventRecord) -> dict[str, Any]:
    return {"status": event.status, "item": event.item}


def apply_review(
    db: Session,
    principal: Principal,
    event: EventRecord,
    body: ReviewCreate,
    ip: str,
    known_items: frozenset[str],
) -> EventRecord:
    """Apply a review decision to an event (the caller commits).

    Args:
        db: Session of the request.
        principal: The reviewer.
        event: The event (visible to the reviewer).
        body: The decision.
        ip: Client address, for the audit record.
        known_items: Item codes a relabel may choose.

    Returns:
        The updated event.

    The write transaction starts here and the event is read again under its lock (SQLite:
    the database write lock; PostgreSQL: ``FOR UPDATE``), so of two reviewers deciding at once
    the second sees the first one's decision.

    Raises:
        ReviewNotAllowed: The caller may not review events of this branch.
        ReviewConflict: The status differs from ``expected_status``, the decision would change
            nothing, or the relabel item is unknown.
    """
    if not principal.can_review(event.branch_id):
        raise ReviewNotAllowed(f"{principal.username} may not review events of {event.branch_id}")
    begin_write(db)
    db.refresh(event, with_for_update=True)
    if body.expected_status is not None and event.status != body.expected_status.value:
        raise ReviewConflict(
            f"event {event.id} is {event.status} now, not {body.expected_status.value}"
        )
    before = _state(event)
    if isinstance(body, RelabelReview):
        if body.item not in known_items:
            raise ReviewConflict(f"unknown inspection item {body.item!r}")
        if body.item == event.item:
            raise ReviewConflict(f"event {event.id} already has item {event.item}")
        event.item = body.item
    else:
        target = TARGET_STATUS[body.action].value
        if event.status == target:
            raise ReviewConflict(f"event {event.id} is already {target}")
        event.status = target
    reason = body.reason.strip()
    db.add(
        Review(
            event_id=event.id,
            reviewer=principal.username,
            action=body.action.value,
            before_status=before["status"],
            after_status=event.status,
            reason=reason,
            created_at=utcnow(),
        )
    )
    record_audit(
        db,
        AuditAction(body.action.value),
        principal=principal,
        target=f"event:{event.id}",
        branch_id=event.branch_id,
        before=before,
        after={**_state(event), "reason": reason},
        ip=ip,
    )
    logger.info("%s %s event %d (%s)", principal.username, body.action.value, event.id, reason)
    return event
