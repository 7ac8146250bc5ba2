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

import getpass
import hashlib
import hmac
import logging
import math
import os
import secrets
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from api.db.auth_models import ApiToken, AuditLog, AuthSession, User, UserBranch
from api.db.models import Branch, utcnow
from api.db.session import begin_write

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
API_TOKEN_PREFIX = "bw_"
LOGIN_CSRF_MAX_AGE_S = 3600
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
"""A token's ``last_used_at`` is written at most this often (each write takes the write lock)."""
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


class TokenScope(StrEnum):
    """What an API token may do, within what its account may do."""

    READ = "read"
    """Read events, stills, clips, branches and the caller's tokens."""
    REVIEW = "review"
    """Confirm, dismiss, relabel and reopen events."""
    ADMIN = "admin"
    """Read and export the audit log."""


ALL_SCOPES = frozenset(TokenScope)


def parse_scopes(text: str) -> frozenset[TokenScope]:
    """Scopes stored as space-separated names (unknown names are dropped, never widened)."""
    known = {s.value: s for s in TokenScope}
    return frozenset(known[name] for name in text.split() if name in known)


def format_scopes(scopes: Iterable[TokenScope]) -> str:
    """Scopes as stored: space-separated names in a fixed order."""
    return " ".join(s.value for s in TokenScope if s in set(scopes))


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
    STILL_VIEWED = "still_viewed"
    CLIP_VIEWED = "clip_viewed"
    NOTICE_VIEWED = "notice_viewed"
    NOTICE_DOWNLOADED = "notice_downloaded"
    NOTICE_GENERATED = "notice_generated"
    USER_ADDED = "user_added"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    AUDIT_EXPORTED = "audit_exported"
    NOTICE_ISSUED = "notice_issued"
    NOTICE_ACKNOWLEDGED = "notice_acked"
    NOTICE_ANSWERED = "notice_answered"
    NOTICE_RETURNED = "notice_returned"
    NOTICE_CLOSED = "notice_closed"
    APPEAL_FILED = "appeal_filed"
    APPEAL_UPHELD = "appeal_upheld"
    APPEAL_OVERTURNED = "appeal_overturned"
    EVIDENCE_EXPIRED = "evidence_expired"


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
    """Back-off of failed logins, so guessing is slow but nobody can lock an account out.

    Failures are counted within ``window_s`` per (account, client address) and per client
    address. Once a count reaches its free allowance, the next attempt from that address waits
    ``base_delay_s`` after the last failure, doubling with every further failure up to
    ``max_delay_s``. The owner logging in from another address is never held back by them.
    """

    per_user: int = 5
    per_address: int = 20
    window_s: int = 900
    base_delay_s: float = 1.0
    max_delay_s: float = 300.0

    def delay_s(self, failures: int, free: int) -> float:
        """Wait after the last failure before the next attempt is checked."""
        if failures < free:
            return 0.0
        return float(min(self.max_delay_s, self.base_delay_s * 2.0 ** min(failures - free, 30)))


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
        token_id: API token, if authenticated by one.
        scopes: What the token may do; a browser session may do all its role allows.
    """

    user_id: int
    username: str
    display_name: str
    role: Role
    branches: frozenset[str]
    session_id: int | None = None
    csrf_token: str | None = None
    token_id: int | None = None
    scopes: frozenset[TokenScope] = ALL_SCOPES

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


def _principal(
    user: User, session: AuthSession | None = None, token: ApiToken | None = None
) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        role=Role(user.role),
        branches=frozenset(b.branch_id for b in user.branches),
        session_id=session.id if session is not None else None,
        csrf_token=session.csrf_token if session is not None else None,
        token_id=token.id if token is not None else None,
        scopes=parse_scopes(token.scopes) if token is not None else ALL_SCOPES,
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


def cli_origin() -> tuple[str, str]:
    """Who and where, for audit records of CLI commands: ``cli:<OS user>`` and ``cli@<host>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        user = str(os.getuid())
    return f"cli:{user}", f"cli@{socket.gethostname()}"


# --- login ------------------------------------------------------------------------------------


def _failures(db: Session, since: datetime, *conds: Any) -> tuple[int, datetime | None]:
    """Failed logins since ``since`` matching ``conds``: how many, and the newest one's time."""
    count, last = db.execute(
        select(func.count(AuditLog.id), func.max(AuditLog.ts)).where(
            AuditLog.action == AuditAction.LOGIN_FAILED.value, AuditLog.ts >= since, *conds
        )
    ).one()
    if isinstance(last, str):  # SQLite returns max() of a datetime column as text
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return int(count or 0), last


def login_wait_s(db: Session, name: str, ip: str, limits: LoginLimits, now: datetime) -> float:
    """Seconds until the next login attempt for this name from this address is checked."""
    since = now - timedelta(seconds=limits.window_s)
    wait = 0.0
    for count, last, free in (
        (*_failures(db, since, AuditLog.username == name, AuditLog.ip == ip), limits.per_user),
        (*_failures(db, since, AuditLog.ip == ip), limits.per_address),
    ):
        if last is not None:
            ready = last + timedelta(seconds=limits.delay_s(count, free))
            wait = max(wait, (ready - now).total_seconds())
    return wait


def authenticate(db: Session, username: str, password: str, ip: str, limits: LoginLimits) -> User:
    """Check a login and audit it (success, failure, or refusal by the back-off).

    The work of ``db`` so far is committed before the password hash is checked (no lock is held
    meanwhile); the audit record and the login time are then added in a write transaction the
    caller commits.

    Raises:
        LoginRateLimited: Too many recent failures for this name from this address, or from
            this address at all; the password was not even checked.
        InvalidCredentials: Unknown user, wrong password or disabled account.
    """
    now = utcnow()
    name = username.strip()[:64]
    wait = login_wait_s(db, name, ip[:64], limits, now)
    if wait > 0:
        record_audit(db, AuditAction.LOGIN_BLOCKED, username=name, ip=ip)
        raise LoginRateLimited(math.ceil(wait))
    user = db.scalars(select(User).where(User.username == name)).one_or_none()
    stored_hash = user.password_hash if user is not None else _dummy_hash()
    # The hash takes a while by design: check it outside any transaction, so no lock is held.
    if db.in_transaction():
        db.commit()
    ok = verify_password(stored_hash, password)
    begin_write(db)
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
        begin_write(db)
        db.execute(delete(AuthSession).where(AuthSession.id == row.id))
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
    db: Session,
    user_id: int,
    name: str,
    secret: str,
    scopes: Iterable[TokenScope],
    expires_at: datetime,
) -> tuple[str, ApiToken]:
    """Issue an API token; the plain token is returned once and never stored.

    Raises:
        UserError: No scope is given.
    """
    stored = format_scopes(scopes)
    if not stored:
        raise UserError(f"a token needs at least one scope ({format_scopes(TokenScope)})")
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user_id,
        name=name[:100],
        prefix=token[:10],
        digest=keyed_digest(secret, token),
        scopes=stored,
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
    if row.last_used_at is None or row.last_used_at <= now - TOKEN_USE_RESOLUTION:
        _mark_used(db, row.id, now)
    return _principal(user, token=row)


def _mark_used(db: Session, token_id: int, now: datetime) -> None:
    """Record a token's use, in a write transaction of its own (the read so far is committed).

    Concurrent requests with the same token write it once: the update only applies while the
    stored time is still older than :data:`TOKEN_USE_RESOLUTION`.
    """
    begin_write(db)
    db.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
