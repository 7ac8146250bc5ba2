"""``/api/events``: list, read and review events; their still and clip (with range requests)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import AuditAction, Principal
from api.db.models import EventRecord, Review, utcnow
from api.schemas.events import (
    EventDetail,
    EventPublic,
    EventsPublic,
    Person,
    ReviewCreate,
    ReviewPublic,
)
from api.service.deps import (
    API_ERRORS,
    CurrentUser,
    IsoDay,
    ReviewingUser,
    SessionDep,
    SettingsDep,
    VisibleEvent,
    client_ip,
    record_access,
)
from api.service.media import (
    MEDIA_TYPES,
    EvidenceKind,
    EvidenceMissing,
    EvidenceTampered,
    checked_evidence,
    evidence_path,
)
from api.service.queries import EventQuery, list_events
from api.service.review import ReviewConflict, ReviewNotAllowed, apply_review
from api.service.watermark import (
    WatermarkError,
    WatermarkSettings,
    get_watermark_settings,
    marked_clip,
    marked_still,
)
from rules.types import EventStatus

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/events", tags=["events"], responses=API_ERRORS)

WatermarkSettingsDep = Annotated[WatermarkSettings, Depends(get_watermark_settings)]
IdText = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[\w.\-]+$")]


def known_items(request: Request) -> frozenset[str]:
    """Item codes a relabel may choose (the registered rules)."""
    items: frozenset[str] = request.app.state.known_items
    return items


def event_public(event: EventRecord) -> EventPublic:
    """The listed form of an event."""
    return EventPublic(
        id=event.id,
        key=event.key,
        item=event.item,
        branch_id=event.branch_id,
        camera_id=event.camera_id,
        start_ts=event.start_ts,
        end_ts=event.end_ts,
        zone=event.zone,
        status=EventStatus(event.status),
        people=[Person.model_validate(p) for p in event.people],
        evidence_ts=event.evidence_ts,
        rule_version=event.rule_version,
        detector_version=event.detector_version,
        created_at=event.created_at,
        has_still=evidence_path(event, EvidenceKind.STILL) is not None,
        has_clip=evidence_path(event, EvidenceKind.CLIP) is not None,
    )


def media_url(event: EventRecord, kind: EvidenceKind) -> str | None:
    """URL of an event's evidence file, if it has one."""
    if evidence_path(event, kind) is None:
        return None
    return f"/api/events/{event.id}/{'still.jpg' if kind is EvidenceKind.STILL else 'clip.mp4'}"


def event_detail(db: SessionDep, event: EventRecord) -> EventDetail:
    """The full form of an event, with its reviews."""
    reviews = db.scalars(
        select(Review).where(Review.event_id == event.id).order_by(Review.created_at, Review.id)
    )
    return EventDetail(
        **event_public(event).model_dump(),
        details=dict(event.details),
        box=list(event.box) if event.box is not None else None,
        still_url=media_url(event, EvidenceKind.STILL),
        clip_url=media_url(event, EvidenceKind.CLIP),
        still_sha256=event.evidence.get("still_sha256"),
        clip_sha256=event.evidence.get("clip_sha256"),
        reviews=[ReviewPublic.model_validate(r) for r in reviews],
    )


@router.get("", response_model=EventsPublic)
def read_events(
    principal: CurrentUser,
    db: SessionDep,
    settings: SettingsDep,
    branch: IdText = None,
    camera: IdText = None,
    item: IdText = None,
    status_: Annotated[EventStatus | None, Query(alias="status")] = None,
    day: Annotated[
        IsoDay | None, Query(description="Business day in the branch's time zone (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> EventsPublic:
    """Events the caller may see, in queue order (start time), one page at a time."""
    limit = limit or settings.page_size
    query = EventQuery(branch=branch, camera=camera, item=item, status=status_, day=day)
    rows, count = list_events(db, principal, query, limit, offset)
    return EventsPublic(
        data=[event_public(e) for e in rows], count=count, limit=limit, offset=offset
    )


@router.get("/{event_id}", response_model=EventDetail)
def read_event(principal: CurrentUser, db: SessionDep, event: VisibleEvent) -> EventDetail:
    """One event with its details and review history."""
    return event_detail(db, event)


@router.post(
    "/{event_id}/review",
    response_model=EventDetail,
    responses={403: {"description": "Read-only account or CSRF failure"}, 409: {}},
)
def review_event(
    principal: ReviewingUser,
    request: Request,
    db: SessionDep,
    event: VisibleEvent,
    body: ReviewCreate,
) -> EventDetail:
    """Confirm, dismiss, relabel or reopen an event (recorded in the audit log)."""
    try:
        apply_review(db, principal, event, body, client_ip(request), known_items(request))
    except ReviewNotAllowed as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except ReviewConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    db.commit()
    return event_detail(db, event)


NO_STORE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
VIEW_ACTIONS = {
    EvidenceKind.STILL: AuditAction.STILL_VIEWED,
    EvidenceKind.CLIP: AuditAction.CLIP_VIEWED,
}
FIRST_BYTES = re.compile(r"^\s*bytes\s*=\s*0\s*-")


def _viewed(
    request: Request, db: Session, principal: Principal, event: EventRecord, kind: EvidenceKind
) -> Path:
    """The checked evidence file, its viewing audited.

    A player fetches a clip in several range requests; the one from its first byte (or a
    request without a range) is the view that is recorded.
    """
    path = _checked(event, kind)
    byte_range = request.headers.get("range")
    if byte_range is None or FIRST_BYTES.match(byte_range):
        record_access(
            db,
            request,
            principal,
            VIEW_ACTIONS[kind],
            target=f"event:{event.id}",
            branch_id=event.branch_id,
            after={kind.value: path.name},
        )
    return path


def _checked(event: EventRecord, kind: EvidenceKind) -> Path:
    try:
        return checked_evidence(event, kind)
    except EvidenceMissing as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except EvidenceTampered as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


MEDIA_RESPONSES: dict[int | str, dict[str, object]] = {
    206: {"description": "Part of the file (HTTP range request)"},
    404: {"description": "No such event or evidence"},
    409: {"description": "The file does not match its stored sha256"},
}


@router.get(
    "/{event_id}/still.jpg",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, **MEDIA_RESPONSES},
)
def read_still(
    principal: CurrentUser, request: Request, db: SessionDep, event: VisibleEvent
) -> Response:
    """The evidence still (JPEG, faces blurred), marked with the viewer and the time; each
    view is audited."""
    path = _viewed(request, db, principal, event, EvidenceKind.STILL)
    try:
        data = marked_still(path, principal.username, utcnow())
    except WatermarkError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return Response(data, media_type=MEDIA_TYPES[EvidenceKind.STILL], headers=NO_STORE)


@router.get(
    "/{event_id}/clip.mp4",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}, **MEDIA_RESPONSES},
)
def read_clip(
    principal: CurrentUser,
    request: Request,
    db: SessionDep,
    event: VisibleEvent,
    marks: WatermarkSettingsDep,
) -> FileResponse:
    """The evidence clip (H.264 MP4, faces blurred), marked with the viewer and the hour;
    supports HTTP range requests; each view is audited."""
    path = _viewed(request, db, principal, event, EvidenceKind.CLIP)
    digest = str(event.evidence.get("clip_sha256", ""))
    try:
        marked = marked_clip(path, digest, principal.username, utcnow(), marks.cache_dir)
    except WatermarkError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return FileResponse(marked, media_type=MEDIA_TYPES[EvidenceKind.CLIP], headers=NO_STORE)
