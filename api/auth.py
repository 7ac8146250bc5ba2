"""Authentication and authorisation of the review service.

Passwords are argon2id hashes. A browser login gets a random session token in an HttpOnly
cookie; the database keeps only an HMAC of it (keyed with the service secret), together with the
session's CSRF token. Automation uses API tokens (``bw_...``) sent as ``Authorization: Bearer``,
also stored as HMAC digests. Failed logins are audited and counted to rate-limit guessing, per
user name and per client address, across every process sharing the database.

Example:
    >>> user = add_user(session, "wang", "a long password", Role.SUPERVISOR, ["b001"])
    >>> user = authenticate(session, "wang", "a long password", "10.0.0.5", LoginLimits())
    >>> token, row = create_session(session, user, secret, timedelta(hours=12), "10.0.0.5")
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db.auth_models import ApiToken, AuditLog, AuthSession, User, UserBranch
from api.db.models import Branch, utcnow

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
API_TOKEN_PREFIX = "bw_"
LOGIN_CSRF_MAX_AGE_S = 3600
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Hash verified when the user does not exist, so both failures take as long."""
    return _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    """What an account may do."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    BRANCH = "branch"


class AuditAction(StrEnum):
    """Kinds of audit records."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_BLOCKED = "login_blocked"
    LOGOUT = "logout"
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    RELABEL = "relabel"
    REOPEN = "reopen"
    MANUAL_FINDING = "manual_finding"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"


class AuthError(Exception):
    """Base of authentication failures."""


class InvalidCredentials(AuthError):
    """Unknown user, wrong password or disabled account (deliberately not told apart)."""


class LoginRateLimited(AuthError):
    """Too many failed logins recently for this user name or client address."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class UserError(ValueError):
    """An account cannot be created or changed as asked (names the user and the problem)."""


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins allowed within ``window_s`` before further attempts are refused."""

    per_user: int = 5
    per_address: int = 20
    window_s: int = 900


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request.

    Attributes:
        user_id: Account id.
        username: Login name.
        display_name: Name shown in the UI.
        role: What the account may do.
        branches: Assigned branches (supervisor) or the own branch (branch account).
        session_id: Login session, if authenticated by cookie.
        csrf_token: CSRF token of that session (``None`` for API tokens, which need none).
    """

    user_id: int
    username: str
    display_name: str
    role: Role
    branches: frozenset[str]
    session_id: int | None = None
    csrf_token: str | None = None

    @property
    def visible_branches(self) -> frozenset[str] | None:
        """Branches whose events the caller may see; ``None`` means every branch."""
        return None if self.role is Role.ADMIN else self.branches

    def can_view(self, branch_id: str) -> bool:
        """Whether the caller may see events, stills and clips of a branch."""
        return self.role is Role.ADMIN or branch_id in self.branches

    def can_review(self, branch_id: str) -> bool:
        """Whether the caller may confirm, dismiss, relabel or reopen events of a branch."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.SUPERVISOR and branch_id in self.branches

    @property
    def can_read_audit(self) -> bool:
        """Branch accounts have a read-only view of their events, not of the audit log."""
        return self.role is not Role.BRANCH


def hash_password(password: str) -> str:
    """Argon2id hash of a password.

    Raises:
        UserError: The password is shorter than :data:`MIN_PASSWORD_LENGTH`.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the argon2 hash (``False`` for a malformed hash too)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def keyed_digest(secret: str, token: str) -> str:
    """HMAC-SHA256 of a session or API token under the service secret (hex)."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def _principal(user: User, session: AuthSession | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        role=Role(user.role),
        branches=frozenset(b.branch_id for b in user.branches),
        session_id=session.id if session is not None else None,
        csrf_token=session.csrf_token if session is not None else None,
    )


# --- accounts ---------------------------------------------------------------------------------


def _check_branches(db: Session, username: str, role: Role, branches: list[str]) -> None:
    if role is Role.ADMIN and branches:
        raise UserError(f"user {username!r}: an admin sees every branch; give no branches")
    if role is Role.BRANCH and len(branches) != 1:
        raise UserError(f"user {username!r}: a branch account needs exactly one branch")
    known = set(db.scalars(select(Branch.id).where(Branch.id.in_(branches))))
    missing = sorted(set(branches) - known)
    if missing:
        raise UserError(f"user {username!r}: unknown branch(es) {missing}")


def add_user(
    db: Session,
    username: str,
    password: str,
    role: Role,
    branches: Iterable[str] = (),
    display_name: str = "",
) -> User:
    """Create an account.

    Args:
        db: Session of the unit of work (not committed here).
        username: Login name (1-64 characters, unique).
        password: Plain password (hashed with argon2id).
        role: What the account may do.
        branches: Assigned branches of a supervisor, or the one branch of a branch account.
        display_name: Name shown in the UI.

    Returns:
        The new user row (flushed, so it has an id).

    Raises:
        UserError: The name is taken or invalid, the password too short, or the branches do not
            fit the role or are unknown.
    """
    username = username.strip()
    if not 1 <= len(username) <= 64:
        raise UserError("user name must have 1 to 64 characters")
    if db.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise UserError(f"user {username!r} exists")
    branch_list = sorted(set(branches))
    _check_branches(db, username, role, branch_list)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role.value,
        active=True,
    )
    user.branches = [UserBranch(branch_id=b) for b in branch_list]
    db.add(user)
    db.flush()
    logger.info("added %s user %s (branches %s)", role.value, username, branch_list)
    return user


def set_user_active(db: Session, username: str, active: bool) -> User:
    """Enable or disable an account; disabling also ends its sessions and revokes its tokens.

    Raises:
        UserError: No such user.
    """
    user = db.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise UserError(f"no user {username!r}")
    user.active = active
    if not active:
        now = utcnow()
        for row in db.scalars(select(AuthSession).where(AuthSession.user_id == user.id)):
            db.delete(row)
        for tok in db.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ):
            tok.revoked_at = now
    db.flush()
    return user


# --- audit ------------------------------------------------------------------------------------


def record_audit(
    db: Session,
    action: AuditAction,
    *,
    principal: Principal | None = None,
    username: str | None = None,
    target: str = "",
    branch_id: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    ip: str = "",
) -> AuditLog:
    """Add an audit record (the caller's unit of work commits it).

    Args:
        db: Session.
        action: What happened.
        principal: Who did it, if authenticated.
        username: Name to record when there is no principal (e.g. a failed login).
        target: What it was done to, e.g. ``event:42``.
        branch_id: Branch concerned, if any.
        before: State before.
        after: State after.
        ip: Client address.
    """
    row = AuditLog(
        ts=utcnow(),
        user_id=principal.user_id if principal is not None else None,
        username=(principal.username if principal is not None else (username or ""))[:64],
        action=action.value,
        target=target[:64],
        branch_id=branch_id,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        ip=ip[:64],
    )
    db.add(row)
    db.flush()
    return row


# --- login ------------------------------------------------------------------------------------


def _recent_failures(db: Session, column: Any, value: str, since: datetime) -> int:
    query = select(func.count(AuditLog.id)).where(
        AuditLog.action == AuditAction.LOGIN_FAILED.value, AuditLog.ts >= since, column == value
    )
    return int(db.scalar(query) or 0)


def authenticate(db: Session, username: str, password: str, ip: str, limits: LoginLimits) -> User:
    """Check a login and audit it (success, failure, or refusal by the rate limit).

    Raises:
        LoginRateLimited: Too many recent failures for this name or address; the password was
            not even checked.
        InvalidCredentials: Unknown user, wrong password or disabled account.
    """
    now = utcnow()
    since = now - timedelta(seconds=limits.window_s)
    name = username.strip()[:64]
    if (
        _recent_failures(db, AuditLog.username, name, since) >= limits.per_user
        or _recent_failures(db, AuditLog.ip, ip[:64], since) >= limits.per_address
    ):
        record_audit(db, AuditAction.LOGIN_BLOCKED, username=name, ip=ip)
        raise LoginRateLimited(limits.window_s)
    user = db.scalars(select(User).where(User.username == name)).one_or_none()
    ok = verify_password(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not ok or not user.active:
        record_audit(db, AuditAction.LOGIN_FAILED, username=name, ip=ip)
        raise InvalidCredentials("wrong user name or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    before = {"last_login_at": user.last_login_at.isoformat() if user.last_login_at else None}
    user.last_login_at = now
    record_audit(
        db,
        AuditAction.LOGIN,
        principal=_principal(user),
        before=before,
        after={"last_login_at": now.isoformat(), "role": user.role},
        ip=ip,
    )
    return user


def create_session(
    db: Session, user: User, secret: str, lifetime: timedelta, ip: str
) -> tuple[str, AuthSession]:
    """Start a browser session; returns the cookie token (never stored) and the row."""
    token = secrets.token_urlsafe(32)
    row = AuthSession(
        digest=keyed_digest(secret, token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=utcnow(),
        expires_at=utcnow() + lifetime,
        ip=ip[:64],
    )
    db.add(row)
    db.flush()
    return token, row


def session_principal(db: Session, secret: str, token: str) -> Principal | None:
    """The caller behind a session cookie, or ``None`` if it is unknown, expired or disabled."""
    row = db.scalars(
        select(AuthSession).where(AuthSession.digest == keyed_digest(secret, token))
    ).one_or_none()
    if row is None:
        return None
    if row.expires_at <= utcnow():
        db.delete(row)
        db.flush()
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return _principal(user, row)


def end_session(db: Session, session_id: int) -> None:
    """Log out: forget the session."""
    row = db.get(AuthSession, session_id)
    if row is not None:
        db.delete(row)
        db.flush()


def login_csrf_token(secret: str) -> str:
    """A signed, timestamped token for the login form (there is no session yet)."""
    payload = f"{int(utcnow().timestamp())}.{secrets.token_urlsafe(16)}"
    return f"{payload}.{keyed_digest(secret, 'login-csrf:' + payload)}"


def check_login_csrf(secret: str, cookie: str | None, form: str | None) -> bool:
    """Double-submit check of the login form: cookie and field equal, signed and recent."""
    if not cookie or not form or not hmac.compare_digest(cookie, form):
        return False
    payload, _, signature = cookie.rpartition(".")
    if not hmac.compare_digest(signature, keyed_digest(secret, "login-csrf:" + payload)):
        return False
    issued, _, _ = payload.partition(".")
    try:
        age = utcnow().timestamp() - int(issued)
    except ValueError:
        return False
    return 0 <= age <= LOGIN_CSRF_MAX_AGE_S


def check_csrf(principal: Principal, sent: str | None) -> bool:
    """Whether a state change is allowed: API tokens need no CSRF token, sessions need theirs."""
    if principal.session_id is None:
        return True
    return (
        principal.csrf_token is not None
        and sent is not None
        and hmac.compare_digest(principal.csrf_token, sent)
    )


# --- API tokens -------------------------------------------------------------------------------


def create_api_token(
    db: Session, user_id: int, name: str, secret: str, expires_at: datetime | None = None
) -> tuple[str, ApiToken]:
    """Issue an API token; the plain token is returned once and never stored."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user_id,
        name=name[:100],
        prefix=token[:10],
        digest=keyed_digest(secret, token),
        created_at=utcnow(),
        expires_at=expires_at,
    )
    db.add(row)
    db.flush()
    return token, row


def token_principal(db: Session, secret: str, token: str) -> Principal | None:
    """The caller behind a bearer token, or ``None`` if unknown, revoked, expired or disabled."""
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    row = db.scalars(
        select(ApiToken).where(ApiToken.digest == keyed_digest(secret, token))
    ).one_or_none()
    now = utcnow()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now
    db.flush()
    return _principal(user)
