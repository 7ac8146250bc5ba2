"""Pages and API of issued notices: issue, acknowledge, answer with photos, close or return.

* ``GET /rectification``: issued notices (overdue ones highlighted) and, for supervisors, the
  final versions that can be issued;
* ``POST /rectification/issue/{notice_id}``: issue a version to its branch;
* ``GET /rectification/{case_id}``: the notice's findings, its answer history and the forms;
* ``POST /rectification/{case_id}/ack|answer|decide``: the steps (forms; answers are multipart
  with ``text_<event>`` and ``photos_<event>`` fields);
* ``GET /rectification/photos/{photo_id}``: an uploaded photo;
* ``GET /api/rectification`` and ``/api/rectification/{case_id}``: the same as JSON.

Another branch's notice, photo or API record answers 404, as if it did not exist.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api.auth import Principal, Role
from api.db.loop_models import AnswerPhoto, NoticeCase
from api.db.models import EventRecord, Notice
from api.notices import NoticeError, build_notice, load_policy
from api.notices.lifecycle import (
    CaseState,
    RectificationSettings,
    StepConflict,
    StepInvalid,
    StepNotAllowed,
    acknowledge,
    answer_notice,
    branch_today,
    check_answer,
    decide_answer,
    is_overdue,
    issue_notice,
    visible_cases,
)
from api.notices.photos import PhotoError, PhotoLimits, StoredPhoto, store_photo
from api.service.deps import (
    API_ERRORS,
    MAX_ID,
    ChangingPageUser,
    CurrentUser,
    OptionalUser,
    PageUser,
    SessionDep,
    client_ip,
)
from api.service.routes.notices import NoticeSettingsDep

logger = logging.getLogger(__name__)

router = APIRouter(tags=["rectification"], responses=API_ERRORS)

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="Issued notice id.")]


@lru_cache(maxsize=1)
def get_rectification_settings() -> RectificationSettings:
    """Loop settings from the environment, read once per process."""
    return RectificationSettings()


RectificationSettingsDep = Annotated[RectificationSettings, Depends(get_rectification_settings)]


class BranchRow(Protocol):
    """A stored row that belongs to a branch."""

    branch_id: str


RowT = TypeVar("RowT", bound=BranchRow)


def visible_row(
    db: Session, principal: Principal | None, model: type[RowT], row_id: int, missing: str
) -> RowT:
    """The row, if the caller may see its branch (404 alike for missing and foreign ones)."""
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required")
    row = db.get(model, row_id)
    if row is None or not principal.can_view(row.branch_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)
    return row


def visible_case(case_id: CaseId, db: SessionDep, principal: OptionalUser) -> NoticeCase:
    """The issued notice, if the caller may see it."""
    return visible_row(db, principal, NoticeCase, case_id, f"无此整改通知书：{case_id}")


VisibleCase = Annotated[NoticeCase, Depends(visible_case)]


class PhotoPublic(BaseModel):
    """An uploaded photo."""

    id: int
    url: str
    sha256: str
    width: int
    height: int


class AnswerPublic(BaseModel):
    """The answer to one finding."""

    event_id: int
    text: str
    photos: list[PhotoPublic]


class RoundPublic(BaseModel):
    """One answer of the branch and its verification."""

    round: int
    answered_by: str
    answered_at: datetime
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    reason: str
    answers: list[AnswerPublic]


class CasePublic(BaseModel):
    """An issued notice and where it stands."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    notice_id: int
    number: str
    branch_id: str
    period: str
    state: str
    overdue: bool
    due_date: date
    issued_at: datetime
    issued_by: str
    event_ids: list[int]
    rounds: list[RoundPublic]


def photo_url(photo: AnswerPhoto) -> str:
    """Where an uploaded photo is served."""
    return f"/rectification/photos/{photo.id}"


def case_public(db: SessionDep, case: NoticeCase) -> CasePublic:
    """The JSON form of an issued notice."""
    notice = db.get(Notice, case.notice_id)
    return CasePublic(
        id=case.id,
        notice_id=case.notice_id,
        number=notice.number if notice is not None else "",
        branch_id=case.branch_id,
        period=case.period,
        state=case.state,
        overdue=is_overdue(case, branch_today(db, case.branch_id)),
        due_date=case.due_date,
        issued_at=case.issued_at,
        issued_by=case.issued_by,
        event_ids=[int(e) for e in case.event_ids],
        rounds=[
            RoundPublic(
                round=r.round,
                answered_by=r.answered_by,
                answered_at=r.answered_at,
                decision=r.decision,
                decided_by=r.decided_by,
                decided_at=r.decided_at,
                reason=r.reason,
                answers=[
                    AnswerPublic(
                        event_id=a.event_id,
                        text=a.text,
                        photos=[
                            PhotoPublic(
                                id=p.id,
                                url=photo_url(p),
                                sha256=p.sha256,
                                width=p.width,
                                height=p.height,
                            )
                            for p in a.photos
                        ],
                    )
                    for a in r.answers
                ],
            )
            for r in case.rounds
        ],
    )


def step_error(exc: Exception) -> HTTPException:
    """The HTTP error of a refused step."""
    if isinstance(exc, StepNotAllowed):
        return HTTPException(status.HTTP_403_FORBIDDEN, str(exc))
    if isinstance(exc, StepConflict):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


def _render(request: Request, name: str, context: dict[str, Any]) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(request, name, context)
    return response


def _case_url(case: NoticeCase) -> str:
    return f"/rectification/{case.id}"


def _issuable(db: SessionDep, principal: Principal) -> list[Notice]:
    """Final notice versions of the caller's branches that have not been issued."""
    issued = select(NoticeCase.notice_id)
    query = (
        select(Notice)
        .where(Notice.preview.is_(False), Notice.id.not_in(issued))
        .order_by(Notice.created_at.desc())
    )
    return [n for n in db.scalars(query) if principal.can_review(n.branch_id)]


@router.get("/rectification", response_class=HTMLResponse, include_in_schema=False)
def cases_page(request: Request, principal: PageUser, db: SessionDep) -> Response:
    """Issued notices the caller may see, overdue ones first in red; versions to issue."""
    cases = visible_cases(db, principal)
    overdue = {c.id for c in cases if is_overdue(c, branch_today(db, c.branch_id))}
    numbers = {
        n.id: n.number
        for n in db.scalars(select(Notice).where(Notice.id.in_([c.notice_id for c in cases])))
    }
    return _render(
        request,
        "rectification_list.html",
        {
            "principal": principal,
            "cases": cases,
            "overdue": overdue,
            "numbers": numbers,
            "issuable": _issuable(db, principal),
        },
    )


@router.post("/rectification/issue/{notice_id}", include_in_schema=False)
def issue(
    request: Request,
    principal: ChangingPageUser,
    db: SessionDep,
    notice_settings: NoticeSettingsDep,
    settings: RectificationSettingsDep,
    notice_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> RedirectResponse:
    """Issue a stored final version; its findings are the confirmed events it lists."""
    notice = db.get(Notice, notice_id)
    if notice is None or not principal.can_view(notice.branch_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"无此通知书：{notice_id}")
    try:
        content = build_notice(
            db,
            notice.branch_id,
            notice.period,
            scheme=notice_settings.scheme,
            policy=load_policy(notice_settings.policy),
        )
    except NoticeError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    try:
        case = issue_notice(
            db,
            principal,
            notice,
            [line.event_id for line in content.lines],
            settings,
            client_ip(request),
        )
    except (StepNotAllowed, StepConflict, StepInvalid) as exc:
        raise step_error(exc) from exc
    db.commit()
    return RedirectResponse(_case_url(case), status.HTTP_303_SEE_OTHER)


@router.get("/rectification/{case_id}", response_class=HTMLResponse, include_in_schema=False)
def case_page(request: Request, principal: PageUser, db: SessionDep, case: VisibleCase) -> Response:
    """An issued notice: findings, answer history with photos, and the caller's next step."""
    ids = [int(e) for e in case.event_ids]
    events = {e.id: e for e in db.scalars(select(EventRecord).where(EventRecord.id.in_(ids)))}
    state = CaseState(case.state)
    is_branch = principal.role is Role.BRANCH and case.branch_id in principal.branches
    return _render(
        request,
        "rectification.html",
        {
            "principal": principal,
            "case": case,
            "notice": db.get(Notice, case.notice_id),
            "events": [events[i] for i in ids if i in events],
            "overdue": is_overdue(case, branch_today(db, case.branch_id)),
            "can_ack": is_branch and state is CaseState.ISSUED,
            "can_answer": is_branch
            and state in (CaseState.ISSUED, CaseState.ACKNOWLEDGED, CaseState.RETURNED),
            "can_decide": principal.can_review(case.branch_id) and state is CaseState.ANSWERED,
            "photo_url": photo_url,
        },
    )


@router.post("/rectification/{case_id}/ack", include_in_schema=False)
def ack(
    request: Request, principal: ChangingPageUser, db: SessionDep, case: VisibleCase
) -> RedirectResponse:
    """The branch acknowledges the notice."""
    try:
        acknowledge(db, principal, case, client_ip(request))
    except (StepNotAllowed, StepConflict) as exc:
        raise step_error(exc) from exc
    db.commit()
    return RedirectResponse(_case_url(case), status.HTTP_303_SEE_OTHER)


async def _answer_form(
    request: Request, principal: Principal, case: NoticeCase, settings: RectificationSettings
) -> tuple[dict[int, str], dict[int, list[StoredPhoto]]]:
    """Texts and cleaned, stored photos per finding from the multipart form.

    The texts and the caller are checked first, so a refused answer stores no photo.
    """
    limits = PhotoLimits(max_bytes=settings.photo_max_mb * 1024 * 1024)
    form = await request.form(max_files=1000, max_fields=1000)
    texts: dict[int, str] = {}
    photos: dict[int, list[StoredPhoto]] = {}
    folder = settings.photo_dir / case.branch_id
    for event_id in (int(e) for e in case.event_ids):
        text = form.get(f"text_{event_id}")
        texts[event_id] = text if isinstance(text, str) else ""
    check_answer(principal, case, texts)
    for event_id in (int(e) for e in case.event_ids):
        uploads = [
            u
            for u in form.getlist(f"photos_{event_id}")
            if isinstance(u, UploadFile) and u.filename
        ]
        if len(uploads) > settings.photos_per_finding:
            raise StepInvalid(f"每项问题最多上传 {settings.photos_per_finding} 张照片")
        stored = []
        for upload in uploads:
            data = await upload.read(limits.max_bytes + 1)
            try:
                stored.append(store_photo(data, upload.filename or "", folder, limits))
            except PhotoError as exc:
                raise StepInvalid(f"{upload.filename}：{exc}") from exc
        photos[event_id] = stored
    return texts, photos


@router.post("/rectification/{case_id}/answer", include_in_schema=False)
async def answer(
    request: Request,
    principal: ChangingPageUser,
    db: SessionDep,
    settings: RectificationSettingsDep,
    case: VisibleCase,
) -> RedirectResponse:
    """The branch answers every finding, with photos."""
    try:
        texts, photos = await _answer_form(request, principal, case, settings)
        answer_notice(db, principal, case, texts, photos, client_ip(request))
    except (StepNotAllowed, StepConflict, StepInvalid) as exc:
        raise step_error(exc) from exc
    db.commit()
    return RedirectResponse(_case_url(case), status.HTTP_303_SEE_OTHER)


@router.post("/rectification/{case_id}/decide", include_in_schema=False)
def decide(
    request: Request,
    principal: ChangingPageUser,
    db: SessionDep,
    case: VisibleCase,
    decision: Annotated[str, Form(pattern="^(close|return)$")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """A supervisor closes the notice or returns the answer with a reason."""
    try:
        decide_answer(
            db, principal, case, close=decision == "close", reason=reason, ip=client_ip(request)
        )
    except (StepNotAllowed, StepConflict, StepInvalid) as exc:
        raise step_error(exc) from exc
    db.commit()
    return RedirectResponse(_case_url(case), status.HTTP_303_SEE_OTHER)


@router.get("/rectification/photos/{photo_id}", include_in_schema=False)
def photo(
    principal: PageUser, db: SessionDep, photo_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> FileResponse:
    """An uploaded photo (its path comes from the stored row only)."""
    row = db.get(AnswerPhoto, photo_id)
    if row is None or not principal.can_view(row.branch_id) or not FilePath(row.path).is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"无此照片：{photo_id}")
    return FileResponse(row.path, media_type="image/jpeg", headers={"Cache-Control": "private"})


@router.get("/api/rectification", response_model=list[CasePublic])
def read_cases(principal: CurrentUser, db: SessionDep) -> list[CasePublic]:
    """Issued notices the caller may see, newest first."""
    return [case_public(db, c) for c in visible_cases(db, principal)]


@router.get("/api/rectification/{case_id}", response_model=CasePublic)
def read_case(principal: CurrentUser, db: SessionDep, case: VisibleCase) -> CasePublic:
    """One issued notice with its answer history."""
    return case_public(db, case)
