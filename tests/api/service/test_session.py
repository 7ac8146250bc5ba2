"""Login, session cookie, CSRF, login rate limiting, API tokens, logout, settings."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.auth import set_user_active
from api.db.auth_models import AuditLog
from api.service.app import create_app
from api.service.settings import DEFAULT_SECRET, Settings, get_settings
from tests.api.service.conftest import CSRF_INPUT, login, make_settings
from tests.api.service.seed import PASSWORD, SECRET, Seeded


def _form_token(client: TestClient) -> str:
    match = CSRF_INPUT.search(client.get("/login").text)
    assert match is not None
    return match.group(1)


def _post_login(client: TestClient, username: str, password: str, next_path: str = "/") -> int:
    token = _form_token(client)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_path},
        follow_redirects=False,
    )
    return int(response.status_code)


@pytest.mark.parametrize(
    "path", ["/api/events", "/api/events/1", "/api/me", "/api/no-such-thing", "/api", "/api/audit"]
)
def test_anonymous_api_gets_401(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("base_url", "secure"), [("http://testserver", False), ("https://testserver", True)]
)
def test_session_cookie_flags(app: FastAPI, base_url: str, secure: bool) -> None:
    with TestClient(app, base_url=base_url) as client:
        token = _form_token(client)
        response = client.post(
            "/login",
            data={"username": "sup1", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303
    assert "bw_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert ("Secure" in cookie) == secure


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/review?branch=b1", "/review?branch=b1"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
    ],
)
def test_login_redirects_only_within_the_site(
    client: TestClient, target: str, location: str
) -> None:
    token = _form_token(client)
    response = client.post(
        "/login",
        data={"username": "sup1", "password": PASSWORD, "csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert response.headers["location"] == location


def test_login_needs_the_form_token(client: TestClient) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"username": "sup1", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert client.get("/api/me").status_code == 401


def _age_failures(store: Seeded, seconds: float) -> None:
    """Move every failed login ``seconds`` into the past (instead of sleeping)."""
    with Session(create_engine(store.url)) as db:
        for row in db.scalars(select(AuditLog).where(AuditLog.action == "login_failed")):
            row.ts -= timedelta(seconds=seconds)
        db.commit()


def test_login_backs_off_without_locking_the_owner_out(app: FastAPI, store: Seeded) -> None:
    with TestClient(app) as attacker:
        for _ in range(5):
            assert _post_login(attacker, "sup1", "wrong password!") == 401
        # The sixth attempt from that address waits 1 s, even with the right password ...
        assert _post_login(attacker, "sup1", PASSWORD) == 429
        # ... while another account from the same address is not held back.
        assert _post_login(attacker, "admin", PASSWORD) == 303
    # The owner elsewhere is never held back by the attacker's failures.
    with TestClient(app, client=("10.0.0.9", 50000)) as owner:
        assert _post_login(owner, "sup1", PASSWORD) == 303
    with TestClient(app) as attacker:
        _age_failures(store, 1.5)
        assert _post_login(attacker, "sup1", "wrong again!!") == 401
        # Each further failure doubles the wait: 2 s now, so 1.5 s later it is still refused.
        _age_failures(store, 1.5)
        response = attacker.post(
            "/login",
            data={"username": "sup1", "password": PASSWORD, "csrf_token": _form_token(attacker)},
            follow_redirects=False,
        )
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        _age_failures(store, 1.0)
        assert _post_login(attacker, "sup1", PASSWORD) == 303
    with Session(create_engine(store.url)) as db:
        actions = [a.action for a in db.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["login_failed"] * 5 + ["login_blocked", "login", "login"] + [
        "login_failed",
        "login_blocked",
        "login",
    ]


@pytest.mark.parametrize(("trusted", "seen"), [("", "testclient"), ("testclient", "203.0.113.7")])
def test_forwarded_address_is_trusted_only_from_configured_proxies(
    store: Seeded, trusted: str, seen: str
) -> None:
    app = create_app(make_settings(store.url, forwarded_allow_ips=trusted))
    with TestClient(app) as client:
        page = client.get("/login")
        token = CSRF_INPUT.search(page.text)
        assert token is not None
        client.post(
            "/login",
            data={"username": "sup1", "password": "wrong password!", "csrf_token": token.group(1)},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    app.state.engine.dispose()
    with Session(create_engine(store.url)) as db:
        failed = db.scalars(select(AuditLog).where(AuditLog.action == "login_failed")).one()
    assert failed.ip == seen


def test_csrf_is_required_for_session_changes(client: TestClient, store: Seeded) -> None:
    csrf = login(client, "sup1")
    url = f"/api/events/{store.own[0]}/review"
    assert client.post(url, json={"action": "confirm"}).status_code == 403
    bad = {"X-CSRF-Token": "nope"}
    assert client.post(url, json={"action": "confirm"}, headers=bad).status_code == 403
    assert client.post(f"/review/{store.own[0]}", data={"action": "confirm"}).status_code == 403
    ok = client.post(url, json={"action": "confirm"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200


def test_api_tokens(client: TestClient, app: FastAPI, store: Seeded) -> None:
    csrf = login(client, "sup1")
    created = client.post(
        "/api/tokens",
        json={"name": "夜间导出", "expires_days": 30, "scopes": ["read", "review"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201
    assert created.json()["scopes"] == ["read", "review"]
    token, token_id = created.json()["token"], created.json()["id"]
    with TestClient(app) as bot:
        auth = {"Authorization": f"Bearer {token}"}
        assert bot.get("/api/me", headers=auth).json()["username"] == "sup1"
        # Bearer calls carry no cookie, so they need no CSRF token; branch limits still apply.
        review = bot.post(
            f"/api/events/{store.own[0]}/review", json={"action": "confirm"}, headers=auth
        )
        assert review.status_code == 200
        assert bot.get(f"/api/events/{store.other}", headers=auth).status_code == 404
        # Without the admin scope the audit log stays closed, and a token never mints tokens.
        assert bot.get("/api/audit", headers=auth).status_code == 403
        minted = bot.post("/api/tokens", json={"name": "child"}, headers=auth)
        assert minted.status_code == 403
        assert "token" not in client.get("/api/tokens").json()["data"][0]
        revoked = client.delete(f"/api/tokens/{token_id}", headers={"X-CSRF-Token": csrf})
        assert revoked.json()["revoked_at"] is not None
        assert bot.get("/api/me", headers=auth).status_code == 401
        assert bot.get("/api/me", headers={"Authorization": "Bearer bw_forged"}).status_code == 401
    assert [t["name"] for t in client.get("/api/tokens").json()["data"]] == ["夜间导出"]


def test_token_scopes_and_default_lifetime(client: TestClient, app: FastAPI, store: Seeded) -> None:
    csrf = login(client, "sup1")
    created = client.post("/api/tokens", json={"name": "只读"}, headers={"X-CSRF-Token": csrf})
    body = created.json()
    assert body["scopes"] == ["read"]
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["created_at"]
    )
    assert timedelta(days=89) < lifetime <= timedelta(days=90)
    with TestClient(app) as bot:
        auth = {"Authorization": f"Bearer {body['token']}"}
        assert bot.get(f"/api/events/{store.own[0]}", headers=auth).status_code == 200
        review = bot.post(
            f"/api/events/{store.own[0]}/review", json={"action": "confirm"}, headers=auth
        )
        assert review.status_code == 403
        assert "review" in review.json()["detail"]
    empty = client.post(
        "/api/tokens", json={"name": "无", "scopes": []}, headers={"X-CSRF-Token": csrf}
    )
    assert empty.status_code == 422


def test_logout_and_disable_end_sessions(app: FastAPI, store: Seeded) -> None:
    with TestClient(app) as first, TestClient(app) as second:
        csrf = login(first, "sup1")
        login(second, "sup1")
        response = first.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert response.status_code == 303
        assert first.get("/api/me").status_code == 401
        assert second.get("/api/me").status_code == 200
        with Session(create_engine(store.url)) as db:
            set_user_active(db, "sup1", active=False)
            db.commit()
        assert second.get("/api/me").status_code == 401
        assert _post_login(second, "sup1", PASSWORD) == 401


def test_pages_redirect_anonymous_visitors_to_login(client: TestClient) -> None:
    response = client.get("/review?branch=b1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/review%3Fbranch%3Db1"
    login_page = client.get("/login")
    assert "登录" in login_page.text and "用户名" in login_page.text
    assert "frame-ancestors 'none'" in login_page.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("environment", "secret", "ok"),
    [
        ("production", DEFAULT_SECRET, False),
        ("production", "short", False),
        ("production", SECRET, True),
        ("development", DEFAULT_SECRET, True),
    ],
)
def test_settings_reject_default_secrets(environment: str, secret: str, ok: bool) -> None:
    values = {"environment": environment, "secret_key": secret, "db": "sqlite://"}
    if ok:
        assert Settings.model_validate(values).secret_key.get_secret_value() == secret
    else:
        with pytest.raises(ValidationError, match="BRANCHWATCH_SECRET_KEY"):
            Settings.model_validate(values)


def test_get_settings_is_cached_and_read_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANCHWATCH_SECRET_KEY", SECRET)
    monkeypatch.setenv("BRANCHWATCH_PAGE_SIZE", "7")
    get_settings.cache_clear()
    try:
        assert get_settings().page_size == 7
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()


def test_app_answers_its_own_settings(store: Seeded) -> None:
    app = create_app(make_settings(store.url, page_size=2))
    with TestClient(app) as client:
        login(client, "admin")
        assert client.get("/api/events").json()["limit"] == 2
    app.state.engine.dispose()


@pytest.mark.parametrize(("secret", "warned"), [(DEFAULT_SECRET, True), (SECRET, False)])
def test_development_mode_warns_about_the_default_secret(
    store: Seeded, caplog: pytest.LogCaptureFixture, secret: str, warned: bool
) -> None:
    settings = Settings.model_validate(
        {"environment": "development", "secret_key": secret, "db": store.url}
    )
    with caplog.at_level(logging.WARNING, logger="api.service.app"):
        app = create_app(settings)
    app.state.engine.dispose()
    assert ("default secret key" in caplog.text) == warned
