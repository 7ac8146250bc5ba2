"""Schemathesis against the OpenAPI schema, as CI runs it: ``st run --checks all`` against the
service on 127.0.0.1, on SQLite and on PostgreSQL, as an API token and as a browser session.

All checks means: no server error, only documented status codes, responses that match their
schema, valid requests accepted and invalid ones rejected, correct ``Allow`` headers, and the
stateful phase (links between operations). The run is bounded (examples per operation) and
deterministic (fixed seed).
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import TokenScope, create_api_token
from api.db.auth_models import User
from api.db.models import utcnow
from api.db.session import make_engine
from api.service.app import create_app
from tests.api.service.browser import served
from tests.api.service.conftest import CSRF_INPUT, CSRF_META, make_settings
from tests.api.service.seed import PASSWORD, SECRET, Seeded

EXAMPLES = 15
SEED = 21
ST_TIMEOUT_S = 600


def _admin_token(url: str) -> str:
    engine = make_engine(url)
    with Session(engine) as db:
        admin = db.scalars(select(User).where(User.username == "admin")).one()
        token, _ = create_api_token(
            db, admin.id, "schemathesis", SECRET, TokenScope, utcnow() + timedelta(days=1)
        )
        db.commit()
    engine.dispose()
    return token


def _session_headers(base: str) -> list[str]:
    with httpx.Client(base_url=base, follow_redirects=True) as client:
        form = CSRF_INPUT.search(client.get("/login").text)
        assert form is not None
        home = client.post(
            "/login",
            data={"username": "admin", "password": PASSWORD, "csrf_token": form.group(1)},
        )
        csrf = CSRF_META.search(home.text)
        assert csrf is not None
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return ["-H", f"Cookie: {cookie}", "-H", f"X-CSRF-Token: {csrf.group(1)}"]


@pytest.mark.parametrize("auth", ["token", "session"])
def test_schemathesis_all_checks(backend_store: Seeded, auth: str, tmp_path: Path) -> None:
    st = shutil.which("st")
    assert st is not None, "schemathesis (st) is a dev dependency"
    app = create_app(make_settings(backend_store.url))
    with served(app) as base:
        headers = (
            ["-H", f"Authorization: Bearer {_admin_token(backend_store.url)}"]
            if auth == "token"
            else _session_headers(base)
        )
        result = subprocess.run(
            [st, "run", f"{base}/openapi.json", "--checks", "all",
             "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--generation-deterministic",
             "--no-color", *headers],
            capture_output=True,
            text=True,
            timeout=ST_TIMEOUT_S,
            cwd=tmp_path,  # its cache folder, not in the checkout
        )  # fmt: skip
    app.state.engine.dispose()
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary + result.stderr[-2000:]
    assert "Tested: " in summary and " passed" in summary


def test_every_api_operation_refuses_anonymous_callers(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert len(paths) >= 8
    for path, operations in paths.items():
        concrete = path.replace("{event_id}", "1").replace("{token_id}", "1")
        for method in operations:
            response = client.request(method.upper(), concrete)
            assert response.status_code == 401, (method, path)
