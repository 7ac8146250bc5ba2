"""The FastAPI application of the review service.

Example:
    >>> app = create_app(get_settings())
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from urllib.parse import quote

from anyio import to_thread
from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.db.session import make_engine
from api.notify.channels import SmtpSettings
from api.notify.outbox import Dispatcher, NotifySettings
from api.service.deps import SESSION_COOKIE, LoginRequired
from api.service.routes import (
    appeals,
    audit,
    branches,
    events,
    health,
    notices,
    notifications,
    pages,
    rectification,
    scorecards,
    session,
    tokens,
    zones,
)
from api.service.settings import DEFAULT_SECRET, DEFAULT_SECRET_WARNING, Settings, get_settings
from api.service.templating import STATIC_DIR, make_templates
from rules.registry import registered
from rules.standard import load_catalog

logger = logging.getLogger(__name__)

SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        b"script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
]


class GuardMiddleware:
    """Answers anonymous ``/api`` requests with 401 before routing, and adds security headers.

    Refusing before routing means an anonymous caller learns nothing, not even which API paths
    exist. Requests with credentials go on; the route's dependencies check them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        path: str = scope["path"]
        if (path == "/api" or path.startswith("/api/")) and not _has_credentials(scope):
            response = JSONResponse(
                {"detail": "authentication required"},
                status_code=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _has_credentials(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value.strip():
            return True
        if name == b"cookie" and SESSION_COOKIE.encode() + b"=" in value:
            return True
    return False


def _allowed_methods(request: Request) -> str:
    """Every method some route of this path takes (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


async def _page_errors(request: Request, exc: Exception) -> Response:
    """API errors stay JSON; page errors become a Chinese error page or the login redirect."""
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise exc
    if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        exc.headers = {**(exc.headers or {}), "Allow": _allowed_methods(request)}
    if request.url.path.startswith("/api"):
        return await http_exception_handler(request, exc)
    if isinstance(exc, LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status.HTTP_303_SEE_OTHER)
    if request.headers.get("x-requested-with") == "fetch":
        return Response(str(exc.detail), exc.status_code, media_type="text/plain; charset=utf-8")
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request,
        "error.html",
        {
            "code": exc.status_code,
            "phrase": HTTPStatus(exc.status_code).phrase,
            "detail": exc.detail,
            "principal": None,
        },
        status_code=exc.status_code,
    )
    return response


SPARE_THREADS = 8
CONFLICT_STATES = frozenset({"40001", "40P01"})  # PostgreSQL serialization failure, deadlock
STORE_RETRY_AFTER_S = 5


async def _store_errors(request: Request, exc: Exception) -> Response:
    """Database failures: a clash with a concurrent change is 409, an unavailable store 503.

    The request's transaction was rolled back, so nothing half-done is stored either way.
    """
    if not isinstance(exc, DBAPIError | PoolTimeout):  # registered for these only
        raise exc
    orig = getattr(exc, "orig", None)
    if isinstance(exc, IntegrityError) or getattr(orig, "sqlstate", None) in CONFLICT_STATES:
        logger.info("%s %s: conflicting change: %s", request.method, request.url.path, orig)
        http = HTTPException(
            status.HTTP_409_CONFLICT,
            "another change was made at the same time; reload and try again",
        )
    else:
        logger.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
        http = HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the database is unavailable; try again shortly",
            headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
        )
    return await _page_errors(request, http)


def create_app(settings: Settings, notify: NotifySettings | None = None) -> FastAPI:
    """Build the service over the store at ``settings.db``.

    Args:
        settings: Service settings; they also answer ``get_settings`` inside the app.
        notify: How queued notifications are sent (default: from the environment).

    Returns:
        The ASGI application.
    """
    notify = notify if notify is not None else NotifySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A request's transaction spans several worker-thread calls (dependencies, route); if
        # every thread were taken by requests waiting for its lock, it could never finish.
        limiter = to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, settings.max_requests + SPARE_THREADS)
        dispatcher = None
        if notify.dispatch:
            dispatcher = Dispatcher(
                app.state.engine, notify.policy, SmtpSettings(), notify.interval_s
            )
            dispatcher.start()
        yield
        if dispatcher is not None:
            dispatcher.stop()
        app.state.engine.dispose()

    app = FastAPI(
        title="branchwatch review service",
        version="1",
        description="Flagged events of bank-branch CCTV checks, their evidence and their review.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = make_engine(settings.db)
    app.state.templates = make_templates()
    app.state.known_items = frozenset(registered()) | frozenset(load_catalog().items)
    app.dependency_overrides[get_settings] = lambda: settings
    for module in (
        events,
        branches,
        audit,
        tokens,
        session,
        notices,
        scorecards,
        rectification,
        appeals,
        notifications,
        health,
        zones,
        pages,
    ):
        app.include_router(module.router)
    app.add_exception_handler(HTTPException, _page_errors)
    app.add_exception_handler(DBAPIError, _store_errors)
    app.add_exception_handler(PoolTimeout, _store_errors)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(GuardMiddleware)
    if settings.forwarded_allow_ips.strip():
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    if (
        settings.environment == "development"
        and settings.secret_key.get_secret_value() == DEFAULT_SECRET
    ):
        logger.warning(DEFAULT_SECRET_WARNING)
    return app
