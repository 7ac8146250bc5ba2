"""Tests of ``branchwatch users add|list|disable|enable|token`` and of the serve settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.auth import TokenScope, token_principal
from api.cli.serve import serve, serve_settings
from api.cli.users import users_app
from api.db.auth_models import ApiToken, AuditLog, User
from api.db.models import Branch
from api.db.session import make_engine, upgrade
from api.service.settings import get_settings

runner = CliRunner()
PASSWORD = "a long enough password"
SECRET = "cli-secret-" + "z" * 40


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as db:
        db.add(Branch(id="b1", name="城东支行", timezone="Asia/Shanghai"))
        db.commit()
    engine.dispose()
    return url


def _audit(url: str) -> list[AuditLog]:
    engine = make_engine(url)
    with Session(engine) as db:
        rows = list(db.scalars(select(AuditLog).order_by(AuditLog.id)))
    engine.dispose()
    return rows


def _users(url: str) -> dict[str, User]:
    engine = make_engine(url)
    with Session(engine) as db:
        users = {u.username: u for u in db.scalars(select(User))}
        for user in users.values():
            _ = user.branches
    engine.dispose()
    return users


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["sup", "--role", "supervisor", "-b", "b1"], 0, "added supervisor sup"),
        (["boss", "--role", "admin"], 0, "added admin boss"),
        (["desk", "--role", "branch", "--branch", "b1"], 0, "added branch desk"),
        (["desk", "--role", "branch"], 2, "exactly one branch"),
        (["sup", "--role", "supervisor", "-b", "b9"], 2, "unknown branch"),
        (["sup", "--role", "guard"], 2, "guard"),
    ],
)
def test_add(db_url: str, args: list[str], code: int, message: str) -> None:
    result = runner.invoke(
        users_app, ["add", *args, "--db", db_url], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == code, result.output
    assert message in result.output
    assert (args[0] in _users(db_url)) == (code == 0)


def test_add_rejects_short_password(db_url: str) -> None:
    short = runner.invoke(
        users_app, ["add", "x", "--role", "admin", "--db", db_url], input="short\nshort\n"
    )
    assert short.exit_code == 2 and "at least" in short.output
    assert "x" not in _users(db_url)


def test_list_disable_enable(db_url: str) -> None:
    runner.invoke(
        users_app, ["add", "sup", "--role", "supervisor", "-b", "b1", "--name", "王督导",
                    "--password", PASSWORD, "--db", db_url],
    )  # fmt: skip
    listed = runner.invoke(users_app, ["list", "--db", db_url])
    assert listed.exit_code == 0
    assert "sup" in listed.output and "王督导" in listed.output and "b1" in listed.output
    assert runner.invoke(users_app, ["disable", "sup", "--db", db_url]).exit_code == 0
    assert _users(db_url)["sup"].active is False
    assert runner.invoke(users_app, ["enable", "sup", "--db", db_url]).exit_code == 0
    assert _users(db_url)["sup"].active is True
    missing = runner.invoke(users_app, ["disable", "nobody", "--db", db_url])
    assert missing.exit_code == 2 and "no user 'nobody'" in missing.output
    audit = _audit(db_url)
    assert [(a.action, a.target) for a in audit] == [
        ("user_added", "user:sup"),
        ("user_disabled", "user:sup"),
        ("user_enabled", "user:sup"),
    ]
    assert all(a.username.startswith("cli:") and a.ip.startswith("cli@") for a in audit)


def test_token(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANCHWATCH_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    try:
        runner.invoke(
            users_app, ["add", "bot", "--role", "admin", "--password", PASSWORD, "--db", db_url]
        )
        result = runner.invoke(
            users_app,
            ["token", "bot", "--name", "nightly", "--scope", "read", "--scope", "review",
             "--db", db_url],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        token = result.output.strip()
        engine = make_engine(db_url)
        with Session(engine) as db:
            principal = token_principal(db, SECRET, token)
            row = db.scalars(select(ApiToken)).one()
            lifetime = row.expires_at - row.created_at if row.expires_at else None
        engine.dispose()
        assert principal is not None and principal.username == "bot"
        assert principal.scopes == {TokenScope.READ, TokenScope.REVIEW}
        assert lifetime is not None and timedelta(days=89) < lifetime <= timedelta(days=90)
        created = _audit(db_url)[-1]
        assert created.action == "token_created" and created.target == "user:bot"
        assert created.after is not None and created.after["scopes"] == "read review"
    finally:
        get_settings.cache_clear()


def test_token_needs_a_real_secret(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRANCHWATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("BRANCHWATCH_ENVIRONMENT", raising=False)
    get_settings.cache_clear()
    try:
        result = runner.invoke(users_app, ["token", "bot", "--db", db_url])
        assert result.exit_code == 2 and "BRANCHWATCH_SECRET_KEY" in result.output
    finally:
        get_settings.cache_clear()


def test_serve_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BRANCHWATCH_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    try:
        url = f"sqlite:///{tmp_path / 'x.db'}"
        assert serve_settings(url).db == url
        monkeypatch.setenv("BRANCHWATCH_SECRET_KEY", "changethis")
        get_settings.cache_clear()
        with pytest.raises(typer.Exit):
            serve_settings(url)
    finally:
        get_settings.cache_clear()


def test_serve_refuses_a_database_without_schema(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BRANCHWATCH_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    app = typer.Typer()
    app.command()(serve)
    try:
        result = runner.invoke(app, ["--db", f"sqlite:///{tmp_path / 'empty.db'}"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "no branchwatch data" in " ".join(result.output.split())  # Rich wraps long lines
