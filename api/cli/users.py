"""``branchwatch users``: local accounts of the review service (add, list, disable, token).

These commands migrate the database first, so they also work on a store made by an older
branchwatch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.auth import (
    AuditAction,
    Role,
    TokenScope,
    UserError,
    add_user,
    cli_origin,
    create_api_token,
    record_audit,
    set_user_active,
)
from api.db.auth_models import User
from api.db.models import utcnow
from api.db.session import StoreURLError, make_engine, session_scope, upgrade
from api.service.settings import get_settings

logger = logging.getLogger(__name__)

EXIT_USAGE = 2

users_app = typer.Typer(no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="BRANCHWATCH_DB", help="SQLAlchemy URL of the store."),
]


@users_app.callback()
def users() -> None:
    """Manage the accounts of the review service."""


@contextmanager
def _session(db: str | None) -> Iterator[Session]:
    try:
        engine = make_engine(db)
        upgrade(engine)
        with session_scope(engine) as session:
            yield session
    except (StoreURLError, UserError) as exc:
        err_console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from exc
    except DBAPIError as exc:
        err_console.print(f"[red]database error: {exc.orig}[/red]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from exc


def _audit(session: Session, action: AuditAction, user: User, after: dict[str, object]) -> None:
    who, origin = cli_origin()
    record_audit(
        session, action, username=who, ip=origin, target=f"user:{user.username}", after=after
    )


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="admin, supervisor or branch.")],
    branch: Annotated[
        list[str] | None,
        typer.Option("--branch", "-b", help="Branch id (repeat for several supervisor branches)."),
    ] = None,
    name: Annotated[str, typer.Option(help="Name shown in the UI.")] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password.")
    ] = "",
    db: DbOption = None,
) -> None:
    """Add an account (the password is asked for twice unless given)."""
    with _session(db) as session:
        user = add_user(session, username, password, role, branch or [], name)
        _audit(
            session,
            AuditAction.USER_ADDED,
            user,
            {"role": user.role, "branches": sorted(b.branch_id for b in user.branches)},
        )
        console.print(f"added {user.role} {user.username}")


@users_app.command("list")
def list_users(db: DbOption = None) -> None:
    """List the accounts with their role, branches and state."""
    with _session(db) as session:
        table = Table("user", "name", "role", "branches", "active", "last login")
        for user in session.scalars(select(User).order_by(User.username)):
            table.add_row(
                user.username,
                user.display_name,
                user.role,
                ",".join(sorted(b.branch_id for b in user.branches)) or "-",
                "yes" if user.active else "no",
                user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "-",
            )
        console.print(table)


@users_app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="Login name.")], db: DbOption = None
) -> None:
    """Disable an account: it cannot log in, its sessions end and its API tokens are revoked."""
    with _session(db) as session:
        user = set_user_active(session, username, active=False)
        _audit(session, AuditAction.USER_DISABLED, user, {"active": False})
        console.print(f"disabled {username}")


@users_app.command("enable")
def enable(
    username: Annotated[str, typer.Argument(help="Login name.")], db: DbOption = None
) -> None:
    """Enable a disabled account again."""
    with _session(db) as session:
        user = set_user_active(session, username, active=True)
        _audit(session, AuditAction.USER_ENABLED, user, {"active": True})
        console.print(f"enabled {username}")


@users_app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="Login name the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "automation",
    scope: Annotated[
        list[TokenScope] | None,
        typer.Option(
            "--scope",
            help="What it may do: read, review, admin (repeat for several; default read).",
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            min=1, max=3650, help="Days until it expires (default BRANCHWATCH_TOKEN_DAYS, 90)."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Issue an API token (printed once; send it as `Authorization: Bearer <token>`)."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        err_console.print(f"[red]{exc.errors()[0]['msg']}[/red]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from exc
    scopes = scope or [TokenScope.READ]
    with _session(db) as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None or not user.active:
            raise UserError(f"no active user {username!r}")
        expires = utcnow() + timedelta(days=days or settings.token_days)
        plain, row = create_api_token(
            session, user.id, name, settings.secret_key.get_secret_value(), scopes, expires
        )
        _audit(
            session,
            AuditAction.TOKEN_CREATED,
            user,
            {"token": row.id, "name": row.name, "prefix": row.prefix, "scopes": row.scopes},
        )
        console.print(plain, highlight=False)
