"""Pages of the UI: overview, review queue (keyboard review), event detail, audit log.

Reviewing from the queue takes one request: the form post of a decision answers with the panel
of the next event in the queue, which the page swaps in (see ``static/review.js``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from api.auth import Principal
from api.db.models import EventRecord, Review
from api.schemas.events import ReviewAction, ReviewCreate
from api.service.deps import (
    ChangingPageUser,
    PageUser,
    SessionDep,
    SettingsDep,
    VisibleEvent,
    client_ip,
)
from api.service.media import EvidenceKind, evidence_path
from api.service.queries import (
    EventQuery,
    audit_entries,
    branch_summaries,
    branch_timezones,
    cameras_of,
    items_of,
    list_events,
    next_event,
    visible_branches,
)
from api.service.review import ReviewConflict, ReviewNotAllowed, apply_review
from api.service.routes.events import known_items
from api.service.scores import ScoreError, current_month, period_scores
from api.service.strip import event_strip
from rules.types import EventStatus

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False)

ALL = "all"
AUDIT_PAGE = 100


def queue_filters(
    branch: str = "", camera: str = "", item: str = "", status: str = "pending", day: str = ""
) -> EventQuery:
    """Queue filters from the form; empty fields do not filter, malformed ones are ignored."""
    try:
        parsed_day = date.fromisoformat(day) if day else None
    except ValueError:
        parsed_day = None
    try:
        parsed_status = None if status in ("", ALL) else EventStatus(status)
    except ValueError:
        parsed_status = EventStatus.PENDING
    return EventQuery(
        branch=branch[:64] or None,
        camera=camera[:64] or None,
        item=item[:64] or None,
        status=parsed_status,
        day=parsed_day,
    )


QueueFilters = Annotated[EventQuery, Depends(queue_filters)]


def filter_params(q: EventQuery) -> dict[str, str]:
    """The filters as form values (the inverse of :func:`queue_filters`)."""
    values = asdict(q)
    out = {k: str(v) for k, v in values.items() if v is not None and k != "status"}
    out["status"] = q.status.value if q.status is not None else ALL
    return out


def _render(request: Request, name: str, context: dict[str, Any], code: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=code
    )
    return response


def panel_context(
    request: Request,
    db: SessionDep,
    principal: Principal,
    event: EventRecord | None,
    q: EventQuery,
) -> dict[str, Any]:
    """What ``_panel.html`` needs to show an event (or that the queue is done)."""
    context: dict[str, Any] = {
        "event": event,
        "principal": principal,
        "filters": filter_params(q),
        "filter_query": urlencode(filter_params(q)),
    }
    if event is None:
        return context
    context.update(
        tz=branch_timezones(db).get(event.branch_id),
        reviews=list(
            db.scalars(
                select(Review)
                .where(Review.event_id == event.id)
                .order_by(Review.created_at, Review.id)
            )
        ),
        has_still=evidence_path(event, EvidenceKind.STILL) is not None,
        has_clip=evidence_path(event, EvidenceKind.CLIP) is not None,
        can_review=principal.can_review(event.branch_id),
        relabel_items=sorted(known_items(request)),
    )
    return context


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request,
    principal: PageUser,
    db: SessionDep,
    settings: SettingsDep,
    period: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """Branches with their score, pending, confirmed and dismissed counts and newest notice."""
    label = period or current_month(branch_timezones(db).values())
    error = None
    try:
        scores = period_scores(db, settings.scheme, label)
    except ScoreError as exc:
        scores, error = {}, str(exc)
    return _render(
        request,
        "overview.html",
        {
            "principal": principal,
            "branches": branch_summaries(db, principal, scores),
            "period": label,
            "score_error": error,
        },
    )


@router.get("/review", response_class=HTMLResponse)
def queue(
    request: Request,
    principal: PageUser,
    db: SessionDep,
    settings: SettingsDep,
    q: QueueFilters,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """The review queue: filters, a page of events, and the panel of the first one."""
    rows, count = list_events(db, principal, q, settings.page_size, offset)
    context = panel_context(request, db, principal, rows[0] if rows else None, q)
    context.update(
        rows=rows,
        count=count,
        offset=offset,
        page_size=settings.page_size,
        tzs=branch_timezones(db),
        branches=visible_branches(db, principal),
        cameras=cameras_of(db, principal),
        items=items_of(db, principal),
    )
    return _render(request, "queue.html", context)


@router.get("/review/panel/{event_id}", response_class=HTMLResponse)
def panel(
    request: Request, principal: PageUser, db: SessionDep, event: VisibleEvent, q: QueueFilters
) -> Response:
    """The panel of one event (the queue page loads it on j/k)."""
    return _render(request, "_panel.html", panel_context(request, db, principal, event, q))


@router.post("/review/{event_id}", response_class=HTMLResponse)
def review(
    request: Request,
    principal: ChangingPageUser,
    db: SessionDep,
    event: VisibleEvent,
    q: QueueFilters,
    action: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=500)] = "",
    item: Annotated[str, Form(max_length=64)] = "",
    expected_status: Annotated[str, Form(max_length=16)] = "",
    stay: Annotated[bool, Form()] = False,
) -> Response:
    """Apply a decision and answer with the panel of the next event (or this one if ``stay``).

    The ``X-Reviewed-Status`` header tells the page the reviewed event's new status.
    """
    try:
        body = ReviewCreate(
            action=ReviewAction(action),
            reason=reason,
            item=item or None,
            expected_status=EventStatus(expected_status) if expected_status else None,
        )
    except (ValueError, ValidationError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "无效的复核操作") from exc
    try:
        apply_review(db, principal, event, body, client_ip(request), known_items(request))
    except ReviewNotAllowed as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "无权复核该事件") from exc
    except ReviewConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "事件状态已变化，请刷新") from exc
    db.commit()
    shown = event if stay else next_event(db, principal, q, event)
    response = _render(request, "_panel.html", panel_context(request, db, principal, shown, q))
    response.headers["X-Reviewed-Id"] = str(event.id)
    response.headers["X-Reviewed-Status"] = event.status
    return response


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(
    request: Request, principal: PageUser, db: SessionDep, event: VisibleEvent
) -> Response:
    """One event: still, clip, observation strip, people and roles, rule parameters, history."""
    q = EventQuery(status=None)
    context = panel_context(request, db, principal, event, q)
    context["strip"] = event_strip(event, event.video.timeline_path if event.video else None)
    return _render(request, "event.html", context)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    principal: PageUser,
    db: SessionDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """The audit log, newest first."""
    if not principal.can_read_audit:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "网点账号无权查看审计日志")
    rows, count = audit_entries(db, principal, AUDIT_PAGE, offset)
    return _render(
        request,
        "audit.html",
        {
            "principal": principal,
            "rows": rows,
            "count": count,
            "offset": offset,
            "page_size": AUDIT_PAGE,
            "tzs": branch_timezones(db),
        },
    )
