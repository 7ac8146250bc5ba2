"""Accounts, passwords, sessions, API tokens, CSRF tokens and the login rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import (
    InvalidCredentials,
    LoginLimits,
    LoginRateLimited,
    Principal,
    Role,
    TokenScope,
    UserError,
    add_user,
    authenticate,
    check_csrf,
    check_login_csrf,
    create_api_token,
    create_session,
    end_session,
    hash_password,
    keyed_digest,
    login_csrf_token,
    session_principal,
    set_user_active,
    token_principal,
    verify_password,
)
from api.db.auth_models import ApiToken, AuditLog, AuthSession
from api.db.models import Branch, utcnow
from api.db.session import make_engine, upgrade

SECRET = "unit-test-secret-" + "y" * 32
PASSWORD = "a long enough password"
LIMITS = LoginLimits(per_user=3, per_address=5, window_s=600)


@pytest.fixture(scope="module")
def engine_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('auth') / 'auth.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as db:
        db.add_all([Branch(id=b, name=b, timezone="Asia/Shanghai") for b in ("b1", "b2")])
        add_user(db, "wang", PASSWORD, Role.SUPERVISOR, ["b1"])
        db.commit()
    engine.dispose()
    return url


@pytest.fixture
def db(engine_url: str) -> Iterator[Session]:
    """A session rolled back after each test."""
    engine = make_engine(engine_url)
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()
    transaction.rollback()
    connection.close()
    engine.dispose()


def test_password_hashes() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)
    with pytest.raises(UserError, match="at least"):
        hash_password("short")


@pytest.mark.parametrize(
    ("name", "role", "branches", "expectation"),
    [
        ("li", Role.SUPERVISOR, ["b1", "b2"], nullcontext()),
        ("zhao", Role.ADMIN, [], nullcontext()),
        ("b1desk", Role.BRANCH, ["b1"], nullcontext()),
        ("sun", Role.ADMIN, ["b1"], pytest.raises(UserError, match="admin sees every")),
        ("zhou", Role.BRANCH, [], pytest.raises(UserError, match="exactly one")),
        ("wu", Role.BRANCH, ["b1", "b2"], pytest.raises(UserError, match="exactly one")),
        ("zheng", Role.SUPERVISOR, ["b9"], pytest.raises(UserError, match="unknown branch")),
        ("wang", Role.SUPERVISOR, ["b1"], pytest.raises(UserError, match="exists")),
        ("", Role.ADMIN, [], pytest.raises(UserError, match="1 to 64")),
    ],
)
def test_add_user(
    db: Session,
    name: str,
    role: Role,
    branches: list[str],
    expectation: AbstractContextManager[object],
) -> None:
    with expectation:
        user = add_user(db, name, PASSWORD, role, branches)
        assert sorted(b.branch_id for b in user.branches) == sorted(branches)
        assert user.password_hash != PASSWORD


@pytest.mark.parametrize(
    ("role", "branches", "branch", "view", "review", "audit"),
    [
        (Role.ADMIN, frozenset(), "b2", True, True, True),
        (Role.SUPERVISOR, frozenset({"b1"}), "b1", True, True, True),
        (Role.SUPERVISOR, frozenset({"b1"}), "b2", False, False, True),
        (Role.BRANCH, frozenset({"b1"}), "b1", True, False, False),
        (Role.BRANCH, frozenset({"b1"}), "b2", False, False, False),
    ],
)
def test_principal_rights(
    role: Role, branches: frozenset[str], branch: str, view: bool, review: bool, audit: bool
) -> None:
    principal = Principal(1, "u", "u", role, branches)
    assert principal.can_view(branch) is view
    assert principal.can_review(branch) is review
    assert principal.can_read_audit is audit


def _actions(db: Session) -> list[str]:
    return [a.action for a in db.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_authenticate_audits_success_and_failure(db: Session) -> None:
    user = authenticate(db, "wang", PASSWORD, "10.0.0.1", LIMITS)
    assert user.last_login_at is not None
    with pytest.raises(InvalidCredentials):
        authenticate(db, "wang", "wrong password", "10.0.0.1", LIMITS)
    with pytest.raises(InvalidCredentials):
        authenticate(db, "nobody", PASSWORD, "10.0.0.1", LIMITS)
    assert _actions(db) == ["login", "login_failed", "login_failed"]
    login = db.scalars(select(AuditLog).where(AuditLog.action == "login")).one()
    assert login.username == "wang" and login.ip == "10.0.0.1"
    assert login.before == {"last_login_at": None} and login.after is not None


def test_disabled_user_cannot_log_in(db: Session) -> None:
    set_user_active(db, "wang", active=False)
    with pytest.raises(InvalidCredentials):
        authenticate(db, "wang", PASSWORD, "10.0.0.1", LIMITS)


@pytest.mark.parametrize(
    ("failures", "name", "ip", "limited"),
    [
        ([("wang", "1.1.1.1")] * 2, "wang", "1.1.1.1", False),
        ([("wang", "1.1.1.1")] * 3, "wang", "1.1.1.1", True),  # per user and address
        ([("wang", "1.1.1.1")] * 3, "wang", "2.2.2.2", False),  # the owner elsewhere
        ([(f"u{i}", "1.1.1.1") for i in range(5)], "wang", "1.1.1.1", True),  # per address
        ([(f"u{i}", "1.1.1.1") for i in range(4)], "wang", "1.1.1.1", False),
    ],
)
def test_login_rate_limit(
    db: Session, failures: list[tuple[str, str]], name: str, ip: str, limited: bool
) -> None:
    for user, address in failures:
        with pytest.raises(InvalidCredentials):
            authenticate(db, user, "wrong password", address, LIMITS)
    if limited:
        with pytest.raises(LoginRateLimited) as info:
            authenticate(db, name, PASSWORD, ip, LIMITS)
        assert info.value.retry_after_s == LIMITS.base_delay_s
        assert _actions(db)[-1] == "login_blocked"
    else:
        assert authenticate(db, name, PASSWORD, ip, LIMITS).username == name


def test_back_off_doubles_up_to_its_limit() -> None:
    limits = LoginLimits(per_user=3, base_delay_s=1.0, max_delay_s=60.0)
    delays = [limits.delay_s(n, limits.per_user) for n in range(2, 12)]
    assert delays == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert limits.delay_s(10**9, limits.per_user) == 60.0


def test_old_failures_do_not_count(db: Session) -> None:
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            authenticate(db, "wang", "wrong password", "1.1.1.1", LIMITS)
    for row in db.scalars(select(AuditLog)):
        row.ts = utcnow() - timedelta(seconds=LIMITS.window_s + 1)
    db.flush()
    assert authenticate(db, "wang", PASSWORD, "1.1.1.1", LIMITS).username == "wang"


def test_sessions(db: Session) -> None:
    user = authenticate(db, "wang", PASSWORD, "", LIMITS)
    token, row = create_session(db, user, SECRET, timedelta(hours=1), "10.0.0.1")
    assert row.digest == keyed_digest(SECRET, token) != token
    principal = session_principal(db, SECRET, token)
    assert principal is not None and principal.branches == {"b1"}
    assert principal.csrf_token == row.csrf_token
    assert session_principal(db, "another secret", token) is None
    end_session(db, row.id)
    assert session_principal(db, SECRET, token) is None


def test_expired_session_is_removed(db: Session) -> None:
    user = authenticate(db, "wang", PASSWORD, "", LIMITS)
    token, row = create_session(db, user, SECRET, timedelta(seconds=-1), "")
    assert session_principal(db, SECRET, token) is None
    assert db.get(AuthSession, row.id) is None


def test_api_tokens(db: Session) -> None:
    user = authenticate(db, "wang", PASSWORD, "", LIMITS)
    later = utcnow() + timedelta(days=1)
    token, row = create_api_token(db, user.id, "export", SECRET, [TokenScope.READ], later)
    assert token.startswith("bw_") and row.prefix == token[:10]
    assert db.scalars(select(ApiToken.digest)).one() != token
    principal = token_principal(db, SECRET, token)
    assert principal is not None and principal.session_id is None
    assert principal.token_id == row.id and principal.scopes == {TokenScope.READ}
    db.refresh(row)
    assert row.last_used_at is not None
    assert token_principal(db, SECRET, token[:-1]) is None
    assert token_principal(db, SECRET, "xx" + token[2:]) is None
    expired, _ = create_api_token(
        db, user.id, "old", SECRET, [TokenScope.READ], utcnow() - timedelta(days=1)
    )
    with pytest.raises(UserError, match="scope"):
        create_api_token(db, user.id, "none", SECRET, [], later)
    assert token_principal(db, SECRET, expired) is None
    set_user_active(db, "wang", active=False)
    assert row.revoked_at is not None
    assert token_principal(db, SECRET, token) is None


def test_login_csrf_tokens() -> None:
    token = login_csrf_token(SECRET)
    assert check_login_csrf(SECRET, token, token)
    assert not check_login_csrf(SECRET, token, login_csrf_token(SECRET))
    assert not check_login_csrf("other secret", token, token)
    assert not check_login_csrf(SECRET, None, token)
    old_payload = f"{int(utcnow().timestamp()) - 7200}.abc"
    old = f"{old_payload}.{keyed_digest(SECRET, 'login-csrf:' + old_payload)}"
    assert not check_login_csrf(SECRET, old, old)


def test_check_csrf() -> None:
    by_session = Principal(1, "u", "u", Role.ADMIN, frozenset(), session_id=7, csrf_token="t0k")
    by_token = Principal(1, "u", "u", Role.ADMIN, frozenset())
    assert check_csrf(by_session, "t0k")
    assert not check_csrf(by_session, "t0x")
    assert not check_csrf(by_session, None)
    assert check_csrf(by_token, None)
