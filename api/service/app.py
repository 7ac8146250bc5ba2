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

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db.session import make_engine
from api.service.deps import SESSION_COOKIE, LoginRequired
from api.service.routes import (
    audit,
    branches,
    events,
    notices,
    pages,
    scorecards,
    session,
    tokens,
)
from api.service.settings import Settings, get_settings
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


async def _page_errors(request: Request, exc: Exception) -> Response:
    """API errors stay JSON; page errors become a Chinese error page or the login redirect."""
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise exc
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


def create_app(settings: Settings) -> FastAPI:
    """Build the service over the store at ``settings.db``.

    Args:
        settings: Service settings; they also answer ``get_settings`` inside the app.

    Returns:
        The ASGI application.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
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
    for module in (events, branches, audit, tokens, session, notices, scorecards, pages):
        app.include_router(module.router)
    app.add_exception_handler(HTTPException, _page_errors)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(GuardMiddleware)
    return app
