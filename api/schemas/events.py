"""Schemas of events and their reviews."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from rules.types import EventStatus

logger = logging.getLogger(__name__)

ITEM_PATTERN = r"^[A-Z][A-Z0-9_]{1,63}$"


class ReviewAction(StrEnum):
    """What a reviewer does to an event."""

    CONFIRM = "confirm"
    DISMISS = "dismiss"
    RELABEL = "relabel"
    REOPEN = "reopen"


class Person(BaseModel):
    """Someone involved in an event."""

    track_id: int = Field(description="Track id of the person on that camera.")
    role: str = Field(description="Role: customer, teller, lobby_manager, guard or unknown.")


class EventBase(BaseModel):
    """Fields of an event that identify what was seen, where and when."""

    model_config = ConfigDict(from_attributes=True)

    item: str = Field(description="Inspection item code, e.g. GUARD_POSTURE.")
    branch_id: str = Field(description="Branch id.")
    camera_id: str = Field(description="Camera id.")
    start_ts: datetime = Field(description="Start of the finding (UTC).")
    end_ts: datetime = Field(description="End of the finding (UTC).")
    zone: str | None = Field(description="Zone id, if any.")
    status: EventStatus = Field(description="Review status.")


class EventPublic(EventBase):
    """An event as listed in the queue."""

    id: int
    key: str = Field(description="Idempotency key of the finding.")
    people: list[Person]
    evidence_ts: datetime | None = Field(description="Time of the still.")
    rule_version: str
    detector_version: str
    created_at: datetime
    has_still: bool = Field(description="Whether a still image is stored.")
    has_clip: bool = Field(description="Whether a video clip is stored.")


class ReviewPublic(BaseModel):
    """A past review of an event."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    reviewer: str
    action: str
    before_status: str
    after_status: str
    reason: str
    created_at: datetime


class EventDetail(EventPublic):
    """An event with everything the detail page shows."""

    details: dict[str, Any] = Field(description="Measures and rule parameters of the finding.")
    box: list[float] | None = Field(description="Normalised box outlined on the still.")
    still_url: str | None
    clip_url: str | None
    still_sha256: str | None
    clip_sha256: str | None
    reviews: list[ReviewPublic]


class EventsPublic(BaseModel):
    """A page of events."""

    data: list[EventPublic]
    count: int = Field(description="Events matching the filters, over all pages.")
    limit: int
    offset: int


class _Review(BaseModel):
    """Fields of every review decision."""

    model_config = ConfigDict(extra="forbid")

    expected_status: EventStatus | None = Field(
        default=None, description="Status the reviewer saw; the review fails if it changed."
    )


Reason = Annotated[
    str, Field(min_length=1, max_length=500, pattern=r"\S", description="Why (not blank).")
]


class StatusReview(_Review):
    """Confirm an event, or reopen it for review; a reason is optional."""

    action: Literal[ReviewAction.CONFIRM, ReviewAction.REOPEN]
    reason: str = Field(default="", max_length=500, description="Why.")
    item: None = Field(default=None, description="Not used by this action.")


class DismissReview(_Review):
    """Dismiss an event as a false alarm; needs a reason."""

    action: Literal[ReviewAction.DISMISS]
    reason: Reason
    item: None = Field(default=None, description="Not used by this action.")


class RelabelReview(_Review):
    """Change an event's inspection item; needs the new item code and a reason."""

    action: Literal[ReviewAction.RELABEL]
    reason: Reason
    item: str = Field(pattern=ITEM_PATTERN, description="New item code.")


ReviewCreate = Annotated[
    StatusReview | DismissReview | RelabelReview, Field(discriminator="action")
]
"""A review decision. ``expected_status`` guards against two reviewers deciding at once (409
if it differs)."""
REVIEW_ADAPTER: TypeAdapter[StatusReview | DismissReview | RelabelReview] = TypeAdapter(
    ReviewCreate
)
