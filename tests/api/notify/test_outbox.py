"""Subscriptions by branch and role, idempotent queueing, back-off, refusals, the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.auth import Role
from api.cli.main import app
from api.db.loop_models import Delivery
from api.db.models import Branch
from api.db.session import make_engine, session_scope, upgrade
from api.notify.channels import Channel, SmtpSettings
from api.notify.outbox import RetryPolicy, SubscriptionError, deliver_due, notify, subscribe
from api.notify.topics import Topic
from tests.api.notify.receivers import Received, http_receiver

runner = CliRunner()


@pytest.fixture
def url(fresh_db_url: str) -> str:
    """An empty store with branches b1 and b2, on SQLite and on PostgreSQL."""
    url = fresh_db_url
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as db:
        db.add_all([Branch(id=b, name=b, timezone="Asia/Shanghai") for b in ("b1", "b2")])
    engine.dispose()
    return url


def _sub(db: Session, name: str, role: Role, topics: list[Topic], branch: str | None) -> int:
    row = subscribe(
        db,
        name=name,
        channel=Channel.WEBHOOK,
        target=f"http://127.0.0.1:9/{name}",
        role=role,
        topics=topics,
        branch_id=branch,
    )
    return row.id


def test_messages_follow_branch_and_role(url: str) -> None:
    engine = make_engine(url)
    with session_scope(engine) as db:
        sup_b1 = _sub(
            db, "sup_b1", Role.SUPERVISOR, [Topic.NOTICE_ISSUED, Topic.APPEAL_FILED], "b1"
        )
        admin = _sub(db, "admin", Role.ADMIN, [Topic.APPEAL_FILED, Topic.RUN_FAILED], None)
        br_b2 = _sub(db, "br_b2", Role.BRANCH, [Topic.NOTICE_ISSUED], "b2")
        assert notify(db, Topic.NOTICE_ISSUED, "b1", "t", "x", key="n1") == 1
        assert notify(db, Topic.NOTICE_ISSUED, "b2", "t", "x", key="n2") == 1
        assert notify(db, Topic.APPEAL_FILED, "b2", "t", "x", key="a1") == 1
        assert notify(db, Topic.APPEAL_FILED, "b1", "t", "x", key="a2") == 2
        assert notify(db, Topic.RUN_FAILED, None, "t", "x", key="r1") == 1
        assert notify(db, Topic.APPEAL_FILED, "b1", "t", "x", key="a2") == 0  # same occurrence
        got = sorted((d.key.split("|")[0], d.subscription_id) for d in db.scalars(select(Delivery)))
    engine.dispose()
    assert got == sorted(
        [("n1", sup_b1), ("n2", br_b2), ("a1", admin), ("a2", sup_b1), ("a2", admin), ("r1", admin)]
    )


@pytest.mark.parametrize(
    ("role", "topics", "branch", "target", "channel", "problem"),
    [
        (
            Role.BRANCH,
            [Topic.EVENTS_PENDING],
            "b1",
            "http://x/h",
            Channel.WEBHOOK,
            "cannot subscribe",
        ),
        (Role.BRANCH, [Topic.NOTICE_DUE], None, "http://x/h", Channel.WEBHOOK, "needs --branch"),
        (Role.ADMIN, [], None, "http://x/h", Channel.WEBHOOK, "at least one topic"),
        (Role.ADMIN, [Topic.RUN_FAILED], None, "ops.example.com", Channel.EMAIL, "email address"),
        (Role.ADMIN, [Topic.RUN_FAILED], None, "ftp://x", Channel.DINGTALK, r"http\(s\) URL"),
    ],
)
def test_bad_subscriptions_are_refused(
    url: str,
    role: Role,
    topics: list[Topic],
    branch: str | None,
    target: str,
    channel: Channel,
    problem: str,
) -> None:
    engine = make_engine(url)
    with session_scope(engine) as db, pytest.raises(SubscriptionError, match=problem):
        subscribe(
            db, name="x", channel=channel, target=target, role=role, topics=topics, branch_id=branch
        )
    engine.dispose()


def test_back_off_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(first_delay_s=30, max_delay_s=200)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=200),
    ]


def test_a_robot_refusing_a_bad_signature_is_retried_later(url: str) -> None:
    got = Received(dingtalk_secret="SEC-right")
    with http_receiver(got) as base:
        engine = make_engine(url)
        with session_scope(engine) as db:
            subscribe(
                db,
                name="ding",
                channel=Channel.DINGTALK,
                target=f"{base}/dingtalk?t=1",
                role=Role.ADMIN,
                topics=[Topic.RUN_FINISHED],
                secret="SEC-wrong",
            )
            notify(db, Topic.RUN_FINISHED, None, "夜间分析完成", "完成", key="run:1")
        counts = deliver_due(engine, RetryPolicy(first_delay_s=60), SmtpSettings())
        with Session(engine) as db:
            row = db.scalars(select(Delivery)).one()
        engine.dispose()
    assert counts == {"pending": 1} and "dingtalk" not in got.ok
    assert "sign mismatch" in row.last_error and row.attempts == 1
    assert row.next_attempt_at > row.created_at + timedelta(seconds=59)


def test_cli_subscribes_and_lists_deliveries(url: str) -> None:
    added = runner.invoke(
        app,
        [
            "notify",
            "subscribe",
            "ops",
            "--channel",
            "wecom",
            "--target",
            "http://127.0.0.1:9/cgi-bin/webhook/send?key=k",
            "--role",
            "admin",
            "--topic",
            "run_failed",
            "--db",
            url,
        ],
    )
    assert added.exit_code == 0, added.output
    refused = runner.invoke(
        app,
        [
            "notify",
            "subscribe",
            "b",
            "--channel",
            "email",
            "--target",
            "b1@example.com",
            "--role",
            "branch",
            "--topic",
            "events_pending",
            "--branch",
            "b1",
            "--db",
            url,
        ],
    )
    assert refused.exit_code == 2 and "cannot subscribe" in refused.output
    engine = make_engine(url)
    with session_scope(engine) as db:
        notify(db, Topic.RUN_FAILED, None, "夜间分析失败", "失败", key="run:7")
    engine.dispose()
    sent = runner.invoke(app, ["notify", "send", "--db", url])
    assert sent.exit_code == 0 and "pending: 1" in sent.output  # port 9 refuses: retried later
    listed = runner.invoke(app, ["notify", "deliveries", "--state", "pending", "--db", url])
    assert "run_failed" in listed.output and "pending" in listed.output
