"""Pages of the UI: overview, review queue (keyboard review), event detail, audit log.

Reviewing from the queue takes one request: the form post of a decision answers with the panel
of the next event in the queue, which the page swaps in (see ``static/review.js``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal
from api.config import ConfigError, load_config
from api.db.models import EventRecord, Review
from api.manual import (
    MAX_PHOTO_BYTES,
    ManualFinding,
    ManualFindingError,
    ManualNotAllowed,
    record_manual_finding,
)
from api.quality import stored_quality
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
from api.service.overview import branch_pictures
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
from api.service.scores import ScoreError, period_scores, shown_period
from api.service.strip import event_strip
from api.suggest import Suggestion, suggest
from rules.coverage import MANUAL_LABEL, CheckKind, scheme_checks, video_items
from rules.quality import precision_text, reasons_text
from rules.standard import load_catalog, load_scheme
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
    """Branches with their score, money, deductions per item, score trend, heat maps of where
    violations were, review counts of the period and newest notice. Opens on the month of the
    newest event."""
    label = shown_period(db, principal, period)
    error = None
    try:
        scores, per = period_scores(db, settings.scheme, label)
        pictures = branch_pictures(db, settings.db, settings.scheme, label)
    except ScoreError as exc:
        scores, per, pictures, error = {}, None, {}, str(exc)
    return _render(
        request,
        "overview.html",
        {
            "principal": principal,
            "branches": branch_summaries(db, principal, scores, per),
            "pictures": pictures,
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


def manual_context(db: Session, principal: Principal, scheme: str) -> dict[str, Any]:
    """Branches, cameras and items the manual-finding form offers (manual items first)."""
    checks = scheme_checks(load_scheme(scheme), video_items())
    manual = [code for code, kind in checks.items() if kind is CheckKind.MANUAL]
    others = sorted(code for code in load_catalog().items if code not in manual)
    return {
        "principal": principal,
        "branches": visible_branches(db, principal),
        "cameras": cameras_of(db, principal),
        "manual_items": manual,
        "other_items": others,
        "manual_label": MANUAL_LABEL,
    }


@router.get("/manual", response_class=HTMLResponse)
def manual_page(
    request: Request, principal: PageUser, db: SessionDep, settings: SettingsDep
) -> Response:
    """Form to record a manual finding (人工检查项) with a frame of the footage or a photo."""
    return _render(request, "manual.html", manual_context(db, principal, settings.scheme))


@router.post("/manual", response_class=HTMLResponse)
async def record_manual(
    request: Request,
    principal: ChangingPageUser,
    db: SessionDep,
    settings: SettingsDep,
    branch: Annotated[str, Form(max_length=64)],
    camera: Annotated[str, Form(max_length=64)],
    item: Annotated[str, Form(max_length=64)],
    at: Annotated[datetime, Form(description="Local time of the branch, e.g. 2026-11-23T10:15")],
    note: Annotated[str, Form(max_length=500)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Store the finding as a confirmed event and show it; errors re-show the form."""
    tz = branch_timezones(db).get(branch)
    data = await photo.read(MAX_PHOTO_BYTES + 1) if photo is not None and photo.filename else None
    try:
        if tz is None or at.tzinfo is not None:
            raise ManualFindingError("请选择网点，并填写网点当地时间")
        finding = ManualFinding(branch, camera, item, at.replace(tzinfo=tz), note)
        row = record_manual_finding(
            db, principal, finding, data, settings.evidence_dir, client_ip(request)
        )
    except ManualNotAllowed as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "无权录入该网点的检查结果") from exc
    except ManualFindingError as exc:
        context = manual_context(db, principal, settings.scheme)
        context["error"] = str(exc)
        return _render(request, "manual.html", context, status.HTTP_422_UNPROCESSABLE_CONTENT)
    db.commit()
    return RedirectResponse(f"/events/{row.id}", status.HTTP_303_SEE_OTHER)


@router.get("/quality", response_class=HTMLResponse)
def quality_page(
    request: Request, principal: PageUser, db: SessionDep, settings: SettingsDep
) -> Response:
    """规则质量: precision per item, camera and rule version, dismissal reasons, missed events,
    and (with a configuration) parameter changes suggested by the dismissals."""
    rows = stored_quality(db, principal.visible_branches)
    suggestions: list[Suggestion] = []
    problem = ""
    if settings.config is not None:
        try:
            site = load_config(settings.config)
        except ConfigError as exc:
            problem = str(exc)
        else:
            for code in sorted({r.item for r in rows if r.dismissed}):
                suggestions += suggest(db, site, code)
    visible = principal.visible_branches
    context = {
        "suggestions": [s for s in suggestions if visible is None or s.branch in visible],
        "config_problem": problem,
        "principal": principal,
        "rows": [
            {
                "row": r,
                "precision": precision_text(r),
                "reasons": reasons_text(r),
            }
            for r in rows
        ],
    }
    return _render(request, "quality.html", context)
