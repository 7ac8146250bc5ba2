"""Rule quality from the store: every event's review state and dismissal reason, grouped by
item, camera and rule version (:mod:`rules.quality`)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import EventRecord, Review
from rules.coverage import MANUAL_RULE_VERSION
from rules.quality import Decision, RuleQuality, rule_quality
from rules.registry import registered
from rules.types import EventStatus

logger = logging.getLogger(__name__)


def stored_quality(
    db: Session, branches: frozenset[str] | None = None, item: str | None = None
) -> list[RuleQuality]:
    """Review figures of the stored events (of ``branches`` and ``item`` when given).

    A manual finding of an item a rule checks counts as missed by that rule's current version.
    """
    query = select(EventRecord)
    if branches is not None:
        query = query.where(EventRecord.branch_id.in_(sorted(branches)))
    if item is not None:
        query = query.where(EventRecord.item == item)
    events = list(db.scalars(query))
    reasons: dict[int, str] = {}
    dismissals = select(Review.event_id, Review.reason).where(Review.action == "dismiss")
    for event_id, reason in db.execute(dismissals.order_by(Review.id)):
        reasons[event_id] = reason
    rules = registered()
    decisions = []
    for e in events:
        manual = e.rule_version == MANUAL_RULE_VERSION
        if manual and e.item not in rules:
            continue
        decisions.append(
            Decision(
                item=e.item,
                camera=e.camera_id,
                rule_version=rules[e.item].version if manual else e.rule_version,
                status=EventStatus(e.status),
                reason=reasons.get(e.id, ""),
                missed=manual,
            )
        )
    return rule_quality(decisions)
