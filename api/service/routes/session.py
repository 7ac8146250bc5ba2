"""Login and logout pages (``/login``, ``/logout``): the browser session cookie."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import (
    AuditAction,
    InvalidCredentials,
    LoginLimits,
    LoginRateLimited,
    authenticate,
    check_login_csrf,
    create_session,
    end_session,
    login_csrf_token,
    record_audit,
)
from api.db.session import begin_write
from api.service.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ChangingPageUser,
    OptionalUser,
    SessionDep,
    SettingsDep,
    client_ip,
)
from api.service.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(tags=["session"], include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(
    request: Request, settings: Settings, next_path: str, error: str | None, code: int
) -> Response:
    token = login_csrf_token(settings.secret_key.get_secret_value())
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": token, "next": next_path, "error": error, "principal": None},
        status_code=code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, settings: SettingsDep, principal: OptionalUser, next: str | None = None
) -> Response:
    """The login form (already logged-in users go on to where they wanted)."""
    if principal is not None:
        return RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    return _login_page(request, settings, safe_next(next), None, status.HTTP_200_OK)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the credentials, start a session and set its cookie."""
    secret = settings.secret_key.get_secret_value()
    target = safe_next(next)
    if not check_login_csrf(secret, request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(request, settings, target, "页面已过期，请重新登录。", 403)
    ip = client_ip(request)
    limits = LoginLimits(
        per_user=settings.login_max_failures,
        per_address=settings.login_max_failures_per_address,
        window_s=settings.login_window_s,
        max_delay_s=settings.login_max_delay_s,
    )
    try:
        user = authenticate(db, username, password, ip, limits)
    except LoginRateLimited as exc:
        db.commit()
        wait = (
            f"{exc.retry_after_s} 秒"
            if exc.retry_after_s < 120
            else f"{math.ceil(exc.retry_after_s / 60)} 分钟"
        )
        response = _login_page(
            request, settings, target, f"登录失败次数过多，请 {wait}后再试。", 429
        )
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    except InvalidCredentials:
        db.commit()
        return _login_page(request, settings, target, "用户名或密码错误。", 401)
    token, _ = create_session(db, user, secret, timedelta(hours=settings.session_hours), ip)
    db.commit()
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(principal: ChangingPageUser, request: Request, db: SessionDep) -> Response:
    """End the session and forget the cookie."""
    begin_write(db)
    if principal.session_id is not None:
        end_session(db, principal.session_id)
    record_audit(db, AuditAction.LOGOUT, principal=principal, ip=client_ip(request))
    db.commit()
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
