"""FastAPI dependencies: database session, settings, the caller, CSRF, visible events.

Dependencies raise :class:`fastapi.HTTPException`; routes never check their results.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, status
from pydantic import BeforeValidator
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.auth import (
    AuditAction,
    Principal,
    TokenScope,
    check_csrf,
    record_audit,
    session_principal,
    token_principal,
)
from api.db.models import EventRecord
from api.db.session import begin_write
from api.service.settings import Settings, get_settings

logger = logging.getLogger(__name__)

SESSION_COOKIE = "bw_session"
LOGIN_CSRF_COOKIE = "bw_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID = 2**31 - 1


API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The request body cannot be parsed"},
    401: {"description": "No valid session cookie or API token"},
    403: {"description": "Not allowed for this account or token scope, or CSRF failure"},
    404: {"description": "No such resource, or not visible to the caller"},
    409: {"description": "Conflicts with the current state or with a concurrent change"},
    422: {"description": "The request is malformed"},
    503: {"description": "The database is unavailable; retry after `Retry-After` seconds"},
}
"""Error answers any API route may give, documented in the OpenAPI schema of every route."""


class LoginRequired(HTTPException):
    """An anonymous visitor asked for a page; the app answers with a redirect to ``/login``."""

    def __init__(self) -> None:
        super().__init__(status.HTTP_401_UNAUTHORIZED, "请先登录")


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; routes that change state commit explicitly.

    Reads never take the write lock. A route that changes state starts its write transaction
    with :func:`api.db.session.begin_write` just before it reads what it will change, inside
    the route (one worker-thread call), so the lock is held briefly and concurrent changes wait
    for each other instead of failing.
    """
    engine: Engine = request.app.state.engine
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def client_ip(request: Request) -> str:
    """Address of the client (the proxy's forwarded one when the proxy is trusted)."""
    return request.client.host if request.client is not None else ""


def record_access(
    db: Session,
    request: Request,
    principal: Principal,
    action: AuditAction,
    *,
    target: str,
    branch_id: str | None,
    after: dict[str, Any] | None = None,
) -> None:
    """Audit a view or download now, in a short write transaction of its own.

    The record is committed before the content is sent, so no access goes unrecorded.
    """
    begin_write(db)
    record_audit(
        db,
        action,
        principal=principal,
        target=target,
        branch_id=branch_id,
        after=after,
        ip=client_ip(request),
    )
    db.commit()


def optional_principal(request: Request, db: SessionDep, settings: SettingsDep) -> Principal | None:
    """The caller from a bearer token or the session cookie, if any and valid."""
    secret = settings.secret_key.get_secret_value()
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        principal = token_principal(db, secret, token.strip())
        db.commit()  # last_used_at
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = session_principal(db, secret, cookie)
        db.commit()  # expired sessions are removed
        return principal
    return None


OptionalUser = Annotated[Principal | None, Depends(optional_principal)]


def require_scope(principal: Principal, scope: TokenScope) -> None:
    """Refuse (403) an API token without ``scope``; browser sessions hold every scope."""
    if scope not in principal.scopes:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"this API token lacks the {scope.value!r} scope"
        )


def current_principal(principal: OptionalUser) -> Principal:
    """The authenticated caller of an API route (401 otherwise; 403 for a token that may not
    read)."""
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "authentication required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    require_scope(principal, TokenScope.READ)
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def page_principal(principal: OptionalUser) -> Principal:
    """The authenticated caller of a UI page (redirect to the login page otherwise)."""
    if principal is None:
        raise LoginRequired()
    require_scope(principal, TokenScope.READ)
    return principal


PageUser = Annotated[Principal, Depends(page_principal)]


async def _sent_csrf(request: Request) -> str | None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent


async def csrf_checked(request: Request, principal: CurrentUser) -> Principal:
    """The caller of a state change, after the CSRF check (403 on failure)."""
    if request.method not in SAFE_METHODS and not check_csrf(principal, await _sent_csrf(request)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")
    return principal


async def page_csrf_checked(request: Request, principal: PageUser) -> Principal:
    """Like :func:`csrf_checked`, for form posts of the UI."""
    if request.method not in SAFE_METHODS and not check_csrf(principal, await _sent_csrf(request)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF 校验失败，请刷新页面后重试")
    return principal


ChangingUser = Annotated[Principal, Depends(csrf_checked)]
ChangingPageUser = Annotated[Principal, Depends(page_csrf_checked)]


def reviewing(principal: ChangingUser) -> Principal:
    """The caller of a review decision: a session, or a token with the ``review`` scope."""
    require_scope(principal, TokenScope.REVIEW)
    return principal


def reviewing_page(principal: ChangingPageUser) -> Principal:
    """Like :func:`reviewing`, for form posts of the UI."""
    require_scope(principal, TokenScope.REVIEW)
    return principal


def session_only(principal: ChangingUser) -> Principal:
    """The caller of a token change: only a browser session, never an API token."""
    if principal.token_id is not None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "API tokens cannot create or revoke tokens; "
            "use the web UI or `branchwatch users token`",
        )
    return principal


def auditor(principal: CurrentUser) -> Principal:
    """A caller who may read the audit log: not a branch account; a token needs ``admin``."""
    if not principal.can_read_audit:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "branch accounts cannot read the audit log")
    require_scope(principal, TokenScope.ADMIN)
    return principal


ReviewingUser = Annotated[Principal, Depends(reviewing)]
ReviewingPageUser = Annotated[Principal, Depends(reviewing_page)]
SessionUser = Annotated[Principal, Depends(session_only)]
Auditor = Annotated[Principal, Depends(auditor)]
EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="Event id.")]


def _written_as(pattern: str, form: str) -> BeforeValidator:
    """Accept only text of this form: pydantic would read "0" or "1700000000" as Unix time."""
    regex = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, str) and not regex.match(value):
            raise ValueError(f"write it as {form}")
        return value

    return BeforeValidator(check)


IsoDay = Annotated[date, _written_as(r"^\d{4}-\d{2}-\d{2}$", "YYYY-MM-DD")]
"""A calendar day, accepted only as ``YYYY-MM-DD``."""
IsoTime = Annotated[
    datetime, _written_as(r"^\d{4}-\d{2}-\d{2}[T ]", "YYYY-MM-DDTHH:MM[:SS][+08:00]")
]
"""A point in time, accepted only in ISO 8601 form (no offset means UTC)."""


def visible_event(event_id: EventId, db: SessionDep, principal: OptionalUser) -> EventRecord:
    """The event, if the caller may see it; 404 alike for missing and other branches' events."""
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required")
    event = db.get(EventRecord, event_id)
    if event is None or not principal.can_view(event.branch_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {event_id}")
    return event


VisibleEvent = Annotated[EventRecord, Depends(visible_event)]
