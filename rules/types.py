"""Records produced by rules and consumed by scoring and the store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventStatus(StrEnum):
    """Review state of an event; only confirmed events count in scores and notices."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True)
class Event:
    """One finding of a rule: an inspection item seen on a camera between two times.

    Attributes:
        item: Inspection item code, e.g. ``LOBBY_MANAGER_ABSENT``.
        branch: Branch id.
        camera: Camera id (empty for branch-wide items such as a call-log rule without video).
        start: Start of the finding (timezone-aware).
        end: End of the finding (timezone-aware), ``end >= start``.
        rule_version: Version of the rule that produced it; part of the idempotency key.
        track_ids: Tracks of the people involved.
        roles: Role names of those people (same order as ``track_ids``).
        zone: Zone id where it happened, if any.
        details: Measures and parameters that explain the finding (JSON-serialisable).
        evidence_ts: Time of the representative frame for the still.
        box: Normalised ``(x0, y0, x1, y1)`` of what to outline on the still, if any.
    """

    item: str
    branch: str
    camera: str
    start: datetime
    end: datetime
    rule_version: str
    track_ids: tuple[int, ...] = ()
    roles: tuple[str, ...] = ()
    zone: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    evidence_ts: datetime | None = None
    box: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"{self.item}: event times must be timezone-aware")
        if self.end < self.start:
            raise ValueError(
                f"{self.item}: event ends ({self.end}) before it starts ({self.start})"
            )

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def key(self) -> str:
        """Idempotency key: the same finding by the same rule version has the same key."""
        raw = json.dumps(
            [
                self.item,
                self.branch,
                self.camera,
                self.start.timestamp(),
                self.zone,
                self.rule_version,
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:32]
