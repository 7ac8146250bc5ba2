"""``branchwatch notify``: subscriptions, the queue of deliveries and sending what is due."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from api.auth import Role
from api.cli.common import fail, store_engine
from api.db.loop_models import Delivery, Subscription
from api.db.session import session_scope
from api.notices.lifecycle import remind_due
from api.notify.channels import Channel, SmtpSettings
from api.notify.outbox import (
    DeliveryState,
    NotifySettings,
    SubscriptionError,
    deliver_due,
    subscribe,
)
from api.notify.topics import DUE_SOON_WORKING_DAYS, Topic

logger = logging.getLogger(__name__)

notify_app = typer.Typer(no_args_is_help=True)
console = Console()

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="BRANCHWATCH_DB", help="SQLAlchemy URL of the store."),
]


@notify_app.callback()
def notify() -> None:
    """Notifications by 企业微信, 钉钉, webhook and email."""


@notify_app.command("subscribe")
def add_subscription(
    name: Annotated[str, typer.Argument(help="Name of the subscription.")],
    channel: Annotated[Channel, typer.Option(help="wecom, dingtalk, webhook or email.")],
    target: Annotated[str, typer.Option(help="Robot/webhook URL or email address.")],
    role: Annotated[Role, typer.Option(help="Whom the target stands for.")],
    topic: Annotated[list[Topic], typer.Option("--topic", "-t", help="Topic (repeat).")],
    branch: Annotated[str | None, typer.Option(help="Only this branch (default: all).")] = None,
    secret: Annotated[str, typer.Option(help="钉钉 加签 secret or webhook HMAC key.")] = "",
    db: DbOption = None,
) -> None:
    """Send messages of some topics to a target."""
    engine = store_engine(db)
    try:
        with session_scope(engine) as session:
            row = subscribe(
                session,
                name=name,
                channel=channel,
                target=target,
                role=role,
                topics=topic,
                branch_id=branch,
                secret=secret,
            )
            console.print(f"subscription {row.id} ({row.channel}) added")
    except SubscriptionError as exc:
        raise fail(str(exc)) from exc
    finally:
        engine.dispose()


@notify_app.command("list")
def list_subscriptions(db: DbOption = None) -> None:
    """Subscriptions."""
    engine = store_engine(db)
    table = Table("id", "name", "channel", "role", "branch", "topics", "active")
    with session_scope(engine) as session:
        for s in session.scalars(select(Subscription).order_by(Subscription.id)):
            table.add_row(
                str(s.id),
                s.name,
                s.channel,
                s.role,
                s.branch_id or "*",
                ",".join(s.topics),
                "yes" if s.active else "no",
            )
    engine.dispose()
    console.print(table)


@notify_app.command("deliveries")
def list_deliveries(
    state: Annotated[DeliveryState | None, typer.Option(help="Only this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    db: DbOption = None,
) -> None:
    """Queued, sent and failed deliveries, newest first, with their last error."""
    engine = store_engine(db)
    table = Table("id", "topic", "branch", "sub", "state", "attempts", "next", "error")
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Delivery.state == state.value)
    with session_scope(engine) as session:
        for d in session.scalars(query):
            table.add_row(
                str(d.id),
                d.topic,
                d.branch_id or "",
                str(d.subscription_id),
                d.state,
                str(d.attempts),
                d.next_attempt_at.isoformat(timespec="seconds"),
                d.last_error[:80],
            )
    engine.dispose()
    console.print(table)


@notify_app.command("send")
def send_due(db: DbOption = None) -> None:
    """Send every delivery that is due now (the service does this by itself every few seconds)."""
    engine = store_engine(db)
    try:
        counts = deliver_due(engine, NotifySettings().policy, SmtpSettings())
    finally:
        engine.dispose()
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing due")


@notify_app.command("remind")
def remind(db: DbOption = None) -> None:
    """Queue reminders of notices due within 2 working days or overdue (the nightly scan does
    this too; use it from cron where no scan runs)."""
    engine = store_engine(db)
    try:
        with session_scope(engine) as session:
            count = remind_due(session, DUE_SOON_WORKING_DAYS)
    finally:
        engine.dispose()
    console.print(f"{count} notices reminded of")
