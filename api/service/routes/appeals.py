"""Appeals (申诉) in the UI and the API.

* ``GET /appeals``: appeals the caller may see, with the decision form for supervisors;
* ``POST /events/{event_id}/appeal``: a branch account appeals a confirmed event (form);
* ``POST /appeals/{appeal_id}/decide``: a supervisor upholds or overturns (form);
* ``GET /api/appeals``, ``POST /api/events/{event_id}/appeal``,
  ``POST /api/appeals/{appeal_id}/decision``: the same as JSON.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appeals import AppealState, appeal_deadline, decide_appeal, file_appeal, visible_appeals
from api.auth import Principal, Role
from api.db.loop_models import Appeal
from api.db.models import EventRecord
from api.notices.lifecycle import (
    RectificationSettings,
    StepConflict,
    StepInvalid,
    StepNotAllowed,
)
from api.service.deps import (
    API_ERRORS,
    MAX_ID,
    ChangingPageUser,
    ChangingUser,
    CurrentUser,
    OptionalUser,
    PageUser,
    SessionDep,
    VisibleEvent,
    client_ip,
)
from api.service.routes.rectification import (
    RectificationSettingsDep,
    step_error,
    visible_row,
)

logger = logging.getLogger(__name__)

router = APIRouter(tags=["appeals"], responses=API_ERRORS)

AppealId = Annotated[int, Path(ge=1, le=MAX_ID, description="Appeal id.")]


def visible_appeal(appeal_id: AppealId, db: SessionDep, principal: OptionalUser) -> Appeal:
    """The appeal, if the caller may see it."""
    return visible_row(db, principal, Appeal, appeal_id, f"无此申诉：{appeal_id}")


VisibleAppeal = Annotated[Appeal, Depends(visible_appeal)]


class AppealCreate(BaseModel):
    """An appeal of a confirmed event."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class AppealDecision(BaseModel):
    """A supervisor's decision on an appeal."""

    model_config = ConfigDict(extra="forbid")

    overturn: bool
    reason: str = Field(min_length=1, max_length=2000)


class AppealPublic(BaseModel):
    """An appeal and its decision."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int
    branch_id: str
    reason: str
    filed_by: str
    filed_at: datetime
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str


@dataclass(frozen=True, slots=True)
class AppealView:
    """What the event page shows about appealing the event."""

    appeal: Appeal | None
    deadline: date | None
    can_file: bool


def appeal_view(
    db: Session, principal: Principal, event: EventRecord, settings: RectificationSettings
) -> AppealView:
    """The event's appeal, its deadline and whether the caller may appeal now."""
    appeal = db.scalars(select(Appeal).where(Appeal.event_id == event.id)).first()
    deadline = appeal_deadline(db, event, settings)
    can_file = (
        appeal is None
        and deadline is not None
        and principal.role is Role.BRANCH
        and event.branch_id in principal.branches
    )
    return AppealView(appeal=appeal, deadline=deadline, can_file=can_file)


@router.get("/appeals", response_class=HTMLResponse, include_in_schema=False)
def appeals_page(request: Request, principal: PageUser, db: SessionDep) -> Response:
    """Appeals the caller may see; supervisors decide the open ones here."""
    rows = visible_appeals(db, principal)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "appeals.html",
        {"principal": principal, "appeals": rows, "open_state": AppealState.OPEN.value},
    )
    return response


@router.post("/events/{event_id}/appeal", include_in_schema=False)
def appeal_form(
    request: Request,
    principal: ChangingPageUser,
    db: SessionDep,
    settings: RectificationSettingsDep,
    event: VisibleEvent,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """The branch appeals the event and goes back to it."""
    try:
        file_appeal(db, principal, event, reason, settings, client_ip(request))
    except (StepNotAllowed, StepConflict, StepInvalid) as exc:
        raise step_error(exc) from exc
    db.commit()
    return RedirectResponse(f"/events/{event.id}", status.HTTP_303_SEE_OTHER)


@router.post("/appeals/{appeal_id}/decide", include_in_schema=False)
def decide_form(
    request: Request,
    principal: ChangingPageUser,
    db: SessionDep,
    appeal: VisibleAppeal,
    decision: Annotated[str, Form(pattern="^(uphold|overturn)$")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """A supervisor decides an appeal and goes back to the list."""
    try:
        decide_appeal(
            db,
            principal,
            appeal,
            overturn=decision == "overturn",
            reason=reason,
            ip=client_ip(request),
        )
    except (StepNotAllowed, StepConflict, StepInvalid) as exc:
        raise step_error(exc) from exc
    db.commit()
    return RedirectResponse("/appeals", status.HTTP_303_SEE_OTHER)


@router.get("/api/appeals", response_model=list[AppealPublic])
def read_appeals(principal: CurrentUser, db: SessionDep) -> list[Any]:
    """Appeals the caller may see, open ones first."""
    return [AppealPublic.model_validate(a) for a in visible_appeals(db, principal)]


@router.post(
    "/api/events/{event_id}/appeal",
    response_model=AppealPublic,
    status_code=status.HTTP_201_CREATED,
    responses={403: {}, 409: {}, 422: {}},
)
def create_appeal(
    request: Request,
    principal: ChangingUser,
    db: SessionDep,
    settings: RectificationSettingsDep,
    event: VisibleEvent,
    body: AppealCreate,
) -> AppealPublic:
    """Appeal a confirmed event of the caller's own branch before the deadline."""
    try:
        appeal = file_appeal(db, principal, event, body.reason, settings, client_ip(request))
    except (StepNotAllowed, StepConflict, StepInvalid) as exc:
        raise step_error(exc) from exc
    db.commit()
    return AppealPublic.model_validate(appeal)


@router.post(
    "/api/appeals/{appeal_id}/decision",
    response_model=AppealPublic,
    responses={403: {}, 409: {}, 422: {}},
)
def decide(
    request: Request,
    principal: ChangingUser,
    db: SessionDep,
    appeal: VisibleAppeal,
    body: AppealDecision,
) -> AppealPublic:
    """Uphold or overturn an appeal (not by the supervisor who confirmed the event)."""
    try:
        decide_appeal(
            db, principal, appeal, overturn=body.overturn, reason=body.reason, ip=client_ip(request)
        )
    except (StepNotAllowed, StepConflict, StepInvalid) as exc:
        raise step_error(exc) from exc
    db.commit()
    return AppealPublic.model_validate(appeal)
