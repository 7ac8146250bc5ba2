"""The durable outbox: deliveries are rows, written in the same unit of work as what caused them.

A sender claims due rows (``pending``, or ``sending`` whose lease ran out because the process
that held them died), sends each, and records the outcome at once: ``sent``, or back to
``pending`` with an exponential back-off, or ``failed`` after :attr:`RetryPolicy.max_attempts`.
A service stopped while messages wait loses none: they are rows, taken up by the next sender.

Example:
    >>> notify(db, Topic.NOTICE_ISSUED, "b001", "整改通知书已下发", "…", key="notice:7")
    >>> deliver_due(engine, RetryPolicy(), SmtpSettings())
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from api.auth import Role
from api.db.loop_models import Delivery, Subscription
from api.db.models import utcnow
from api.db.session import SQLITE_IMMEDIATE, session_scope
from api.notify.channels import Channel, Message, SendError, SmtpSettings, send
from api.notify.topics import TOPIC_ROLES, Topic

logger = logging.getLogger(__name__)


class DeliveryState(StrEnum):
    """States of a delivery."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class SubscriptionError(ValueError):
    """A subscription cannot be made as asked (names the problem)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long deliveries are retried.

    Attributes:
        max_attempts: Attempts before a delivery is marked failed.
        first_delay_s: Wait after the first failure; each further failure doubles it.
        max_delay_s: Longest wait between attempts.
        lease_s: How long a claimed delivery is reserved for its sender.
        batch: Deliveries claimed at a time.
    """

    max_attempts: int = 6
    first_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    lease_s: float = 120.0
    batch: int = 20

    def delay(self, attempts: int) -> timedelta:
        """Back-off after the ``attempts``-th failed attempt."""
        return timedelta(seconds=min(self.max_delay_s, self.first_delay_s * 2 ** (attempts - 1)))


def subscribe(
    db: Session,
    *,
    name: str,
    channel: Channel,
    target: str,
    role: Role,
    topics: list[Topic],
    branch_id: str | None = None,
    secret: str = "",
) -> Subscription:
    """Add a subscription.

    Raises:
        SubscriptionError: A topic is not for the role, a branch account has no branch, or
            the target does not suit the channel.
    """
    if not topics:
        raise SubscriptionError("give at least one topic")
    refused = [t.value for t in topics if role not in TOPIC_ROLES[t]]
    if refused:
        raise SubscriptionError(f"role {role.value!r} cannot subscribe to {refused}")
    if role is Role.BRANCH and branch_id is None:
        raise SubscriptionError("a subscription for a branch account needs --branch")
    if channel is Channel.EMAIL:
        if "@" not in target or target.startswith(("http://", "https://")):
            raise SubscriptionError(f"{target!r} is not an email address")
    elif not target.startswith(("http://", "https://")):
        raise SubscriptionError(f"{target!r} is not an http(s) URL for a {channel.value} target")
    row = Subscription(
        name=name[:100],
        channel=channel.value,
        target=target,
        secret=secret,
        branch_id=branch_id,
        role=role.value,
        topics=sorted(t.value for t in topics),
        active=True,
    )
    db.add(row)
    db.flush()
    return row


def notify(
    db: Session, topic: Topic, branch_id: str | None, title: str, body: str, *, key: str
) -> int:
    """Queue a message to every subscription of the topic that covers the branch.

    Subscriptions for every branch (``branch_id`` ``None``) get messages of all branches; a
    message about no branch (a nightly run) goes to every subscription of its topic.

    Args:
        db: Session of the unit of work that caused the message (it commits both together).
        topic: What happened.
        branch_id: Branch concerned, if any.
        title: Short title (Chinese).
        body: Text (Chinese, plain or light Markdown).
        key: Names the occurrence; a second call with the same key queues nothing more.

    Returns:
        Deliveries queued.
    """
    subs = db.scalars(select(Subscription).where(Subscription.active.is_(True)))
    queued = 0
    for sub in subs:
        if topic.value not in sub.topics or Role(sub.role) not in TOPIC_ROLES[topic]:
            continue
        if branch_id is not None and sub.branch_id not in (None, branch_id):
            continue
        delivery_key = f"{key}|{sub.id}"[:200]
        exists = db.scalar(select(Delivery.id).where(Delivery.key == delivery_key))
        if exists is not None:
            continue
        db.add(
            Delivery(
                key=delivery_key,
                subscription_id=sub.id,
                topic=topic.value,
                branch_id=branch_id,
                title=title[:200],
                body=body,
                state=DeliveryState.PENDING,
                next_attempt_at=utcnow(),
            )
        )
        queued += 1
    db.flush()
    return queued


@dataclass(frozen=True, slots=True)
class _Claimed:
    delivery_id: int
    attempts: int
    channel: Channel
    target: str
    secret: str
    message: Message


def _claim(engine: Engine, policy: RetryPolicy, now: datetime) -> list[_Claimed]:
    due = or_(
        (Delivery.state == DeliveryState.PENDING) & (Delivery.next_attempt_at <= now),
        (Delivery.state == DeliveryState.SENDING) & (Delivery.lease_until < now),
    )
    query = select(Delivery).where(due).order_by(Delivery.next_attempt_at, Delivery.id)
    with session_scope(engine.execution_options(**{SQLITE_IMMEDIATE: True})) as db:
        if db.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(db.scalars(query.limit(policy.batch)))
        claimed = []
        for row in rows:
            sub = db.get(Subscription, row.subscription_id)
            row.state = DeliveryState.SENDING
            row.lease_until = now + timedelta(seconds=policy.lease_s)
            row.attempts += 1
            if sub is None or not sub.active:
                row.state, row.last_error = DeliveryState.FAILED, "subscription removed"
                continue
            claimed.append(
                _Claimed(
                    delivery_id=row.id,
                    attempts=row.attempts,
                    channel=Channel(sub.channel),
                    target=sub.target,
                    secret=sub.secret,
                    message=Message(
                        delivery_id=row.id,
                        topic=row.topic,
                        branch_id=row.branch_id,
                        title=row.title,
                        body=row.body,
                        created_at=row.created_at.isoformat(),
                    ),
                )
            )
    return claimed


def _record(engine: Engine, item: _Claimed, error: str | None, policy: RetryPolicy) -> str:
    with session_scope(engine) as db:
        row = db.get(Delivery, item.delivery_id)
        if row is None:
            return DeliveryState.FAILED
        now = utcnow()
        row.lease_until = None
        if error is None:
            row.state, row.sent_at, row.last_error = DeliveryState.SENT, now, ""
        elif item.attempts >= policy.max_attempts:
            row.state, row.last_error = DeliveryState.FAILED, error[:2000]
        else:
            row.state, row.last_error = DeliveryState.PENDING, error[:2000]
            row.next_attempt_at = now + policy.delay(item.attempts)
        return row.state


def deliver_due(
    engine: Engine,
    policy: RetryPolicy,
    smtp: SmtpSettings,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Send every delivery that is due now, batch by batch.

    Args:
        engine: The store.
        policy: Retries and back-off.
        smtp: Mail server of email targets.
        stop: Set to stop after the message being sent (what is left stays queued).

    Returns:
        Count of outcomes by state (``sent``, ``pending`` for a retry later, ``failed``).
    """
    counts: dict[str, int] = {}
    while stop is None or not stop.is_set():
        batch = _claim(engine, policy, utcnow())
        if not batch:
            break
        for index, item in enumerate(batch):
            if stop is not None and stop.is_set():
                _release(engine, [b.delivery_id for b in batch[index:]])
                return counts
            try:
                send(item.channel, item.target, item.secret, item.message, smtp)
                error = None
            except SendError as exc:
                error = str(exc)
                logger.warning("delivery %d (%s): %s", item.delivery_id, item.channel, error)
            state = _record(engine, item, error, policy)
            counts[state] = counts.get(state, 0) + 1
    return counts


def _release(engine: Engine, ids: list[int]) -> None:
    """Give claimed but unsent deliveries back to the queue (their attempt did not happen)."""
    with session_scope(engine) as db:
        for row in db.scalars(select(Delivery).where(Delivery.id.in_(ids))):
            row.state, row.lease_until = DeliveryState.PENDING, None
            row.attempts = max(0, row.attempts - 1)


class Dispatcher:
    """A background thread of the service that sends due deliveries every ``interval_s``."""

    def __init__(
        self, engine: Engine, policy: RetryPolicy, smtp: SmtpSettings, interval_s: float
    ) -> None:
        self._engine, self._policy, self._smtp = engine, policy, smtp
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-dispatcher", daemon=True)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the message being sent, record it, and stop."""
        self._stop.set()
        self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_due(self._engine, self._policy, self._smtp, self._stop)
            except Exception:  # the thread must outlive a database hiccup; the rows wait
                logger.exception("notification dispatcher: sending failed; trying again")
            self._stop.wait(self._interval_s)


class NotifySettings(BaseSettings):
    """How the service sends notifications, from ``BRANCHWATCH_NOTIFY_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="BRANCHWATCH_NOTIFY_", extra="forbid", frozen=True)

    dispatch: bool = Field(default=True, description="Send queued notifications from the service.")
    interval_s: float = Field(default=10.0, gt=0, le=3600, description="Seconds between sweeps.")
    max_attempts: int = Field(default=6, ge=1, le=100, description="Attempts before failed.")
    first_delay_s: float = Field(default=30.0, gt=0, description="Wait after the first failure.")
    max_delay_s: float = Field(default=3600.0, gt=0, description="Longest wait between attempts.")

    @property
    def policy(self) -> RetryPolicy:
        """The retry policy these settings describe."""
        return RetryPolicy(
            max_attempts=self.max_attempts,
            first_delay_s=self.first_delay_s,
            max_delay_s=self.max_delay_s,
        )
