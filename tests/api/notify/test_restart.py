"""A service restarted while deliveries wait loses none: each arrives once or is marked failed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import Role
from api.db.loop_models import Delivery
from api.db.models import Branch
from api.db.session import make_engine, session_scope, upgrade
from api.notify.channels import Channel
from api.notify.outbox import NotifySettings, notify, subscribe
from api.notify.topics import Topic
from api.service.app import create_app
from tests.api.notify.receivers import Received, http_receiver, smtp_receiver
from tests.api.service.browser import served
from tests.api.service.conftest import make_settings

MESSAGES = 8
DING_SECRET = "SEC" + "d" * 40
HOOK_SECRET = "hook-secret"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as db:
        db.add_all(
            [
                Branch(id="b1", name="城东支行", timezone="Asia/Shanghai"),
                Branch(id="b2", name="城西支行", timezone="Asia/Shanghai"),
            ]
        )
    engine.dispose()
    yield url


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with Session(engine) as db:
        rows = db.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
    engine.dispose()
    return {state: int(n) for state, n in rows}


def _wait(predicate: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _tokens(items: list[dict[str, object]]) -> list[str]:
    """The message tokens (``msg-N``) in what a receiver accepted."""
    out = []
    for item in items:
        text = str(item)
        out.extend(t for t in (f"msg-{i}" for i in range(MESSAGES)) if f"{t}：" in text)
    return out


def test_restart_loses_no_delivery(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    got = Received(
        delay_s=0.15,
        fail_first={"/flaky": 3},
        always_fail={"/down"},
        dingtalk_secret=DING_SECRET,
        webhook_secret=HOOK_SECRET,
    )
    with http_receiver(got) as base, smtp_receiver() as (mailbox, smtp_port):
        monkeypatch.setenv("BRANCHWATCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("BRANCHWATCH_SMTP_PORT", str(smtp_port))
        engine = make_engine(store)
        with session_scope(engine) as db:
            for name, channel, target, secret in [
                ("wecom", Channel.WECOM, f"{base}/wecom?key=k1", ""),
                ("ding", Channel.DINGTALK, f"{base}/dingtalk?access_token=t1", DING_SECRET),
                ("hook", Channel.WEBHOOK, f"{base}/hook", HOOK_SECRET),
                ("flaky", Channel.WEBHOOK, f"{base}/flaky", ""),
                ("down", Channel.WEBHOOK, f"{base}/down", ""),
                ("mail", Channel.EMAIL, "zhang@example.com", ""),
            ]:
                subscribe(
                    db,
                    name=name,
                    channel=channel,
                    target=target,
                    role=Role.SUPERVISOR,
                    topics=[Topic.NOTICE_ISSUED],
                    branch_id="b1",
                    secret=secret,
                )
            for i in range(MESSAGES):
                notify(
                    db,
                    Topic.NOTICE_ISSUED,
                    "b1",
                    f"通知 {i}",
                    f"msg-{i}：请整改",
                    key=f"issued:{i}",
                )
            # b2's messages reach no b1 subscription.
            assert notify(db, Topic.NOTICE_ISSUED, "b2", "b2", "msg-x：b2", key="b2") == 0
        engine.dispose()
        total = 6 * MESSAGES
        assert _counts(store) == {"pending": total}

        fast = NotifySettings(interval_s=0.1, max_attempts=3, first_delay_s=0.2, max_delay_s=0.5)
        first = create_app(make_settings(store), fast)
        with served(first):
            _wait(lambda: 3 <= len(got.ok.get("/wecom", [])), 30)
        first.state.engine.dispose()
        counts = _counts(store)
        assert counts.get("sending", 0) == 0  # the stopped service finished what it had begun
        assert counts.get("pending", 0) > 0  # and left the rest queued

        second = create_app(make_settings(store), fast)
        with served(second):
            _wait(lambda: set(_counts(store)) <= {"sent", "failed"}, 120)
        second.state.engine.dispose()

    assert _counts(store) == {"sent": 5 * MESSAGES, "failed": MESSAGES}
    expected = sorted(f"msg-{i}" for i in range(MESSAGES))
    for path in ("/wecom", "/dingtalk", "/hook", "/flaky"):
        assert sorted(_tokens(got.ok[path])) == expected, path
    assert sorted(m.get_payload().split("：")[0] for m in mailbox.messages) == expected
    assert "/down" not in got.ok and got.seen["/down"] == 3 * MESSAGES  # 3 attempts each
    engine = make_engine(store)
    with Session(engine) as db:
        failed = list(db.scalars(select(Delivery).where(Delivery.state == "failed")))
    engine.dispose()
    assert all(d.attempts == 3 and "HTTP 503" in d.last_error for d in failed)
