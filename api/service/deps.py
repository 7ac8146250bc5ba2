"""FastAPI dependencies: database session, settings, the caller, CSRF, visible events.

Dependencies raise :class:`fastapi.HTTPException`; routes never check their results.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.auth import Principal, check_csrf, session_principal, token_principal
from api.db.models import EventRecord
from api.service.settings import Settings, get_settings

logger = logging.getLogger(__name__)

SESSION_COOKIE = "bw_session"
LOGIN_CSRF_COOKIE = "bw_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID = 2**31 - 1


class LoginRequired(HTTPException):
    """An anonymous visitor asked for a page; the app answers with a redirect to ``/login``."""

    def __init__(self) -> None:
        super().__init__(status.HTTP_401_UNAUTHORIZED, "请先登录")


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; routes that change state commit explicitly."""
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


def current_principal(principal: OptionalUser) -> Principal:
    """The authenticated caller of an API route (401 otherwise)."""
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "authentication required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def page_principal(principal: OptionalUser) -> Principal:
    """The authenticated caller of a UI page (redirect to the login page otherwise)."""
    if principal is None:
        raise LoginRequired()
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
EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="Event id.")]


def visible_event(event_id: EventId, db: SessionDep, principal: OptionalUser) -> EventRecord:
    """The event, if the caller may see it; 404 alike for missing and other branches' events."""
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required")
    event = db.get(EventRecord, event_id)
    if event is None or not principal.can_view(event.branch_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {event_id}")
    return event


VisibleEvent = Annotated[EventRecord, Depends(visible_event)]
