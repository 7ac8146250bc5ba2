"""What branchwatch tells people about, and which roles may subscribe to each topic."""

from __future__ import annotations

import logging
from enum import StrEnum

from api.auth import Role

logger = logging.getLogger(__name__)


class Topic(StrEnum):
    """Occasions of a notification."""

    EVENTS_PENDING = "events_pending"
    NOTICE_ISSUED = "notice_issued"
    NOTICE_DUE = "notice_due"
    APPEAL_FILED = "appeal_filed"
    RUN_FINISHED = "run_finished"
    RUN_FAILED = "run_failed"


TOPIC_NAMES: dict[Topic, str] = {
    Topic.EVENTS_PENDING: "新事件待复核",
    Topic.NOTICE_ISSUED: "整改通知书已下发",
    Topic.NOTICE_DUE: "整改回复即将到期或已逾期",
    Topic.APPEAL_FILED: "网点提出申诉",
    Topic.RUN_FINISHED: "夜间分析完成",
    Topic.RUN_FAILED: "夜间分析失败",
}

_STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR})
_EVERYONE = frozenset(Role)

TOPIC_ROLES: dict[Topic, frozenset[Role]] = {
    Topic.EVENTS_PENDING: _STAFF,
    Topic.NOTICE_ISSUED: _EVERYONE,
    Topic.NOTICE_DUE: _EVERYONE,
    Topic.APPEAL_FILED: _STAFF,
    Topic.RUN_FINISHED: _STAFF,
    Topic.RUN_FAILED: _STAFF,
}
"""Roles a subscription may stand for to receive a topic (branch accounts: their own notices)."""

DUE_SOON_WORKING_DAYS = 2
"""A notice is reminded of when its due date is this many working days away or less."""
