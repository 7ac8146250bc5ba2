"""The delivery queue page: staff see their branches' messages and their status."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.auth import Role
from api.db.models import Notice
from api.db.session import make_engine, session_scope
from api.notices.lifecycle import RectificationSettings, issue_notice
from api.notify.channels import Channel
from api.notify.outbox import subscribe
from api.notify.topics import Topic
from tests.api.rectification.conftest import Loop
from tests.api.rectification.test_lifecycle import SUP
from tests.api.service.conftest import login


def test_issued_notice_is_queued_and_shown_to_staff(loop: Loop, app: FastAPI) -> None:
    engine = make_engine(loop.url)
    with session_scope(engine) as db:
        for branch in ("b1", "b2"):
            subscribe(
                db,
                name=f"{branch}-mail",
                channel=Channel.EMAIL,
                target=f"{branch}@example.com",
                role=Role.BRANCH,
                branch_id=branch,
                topics=[Topic.NOTICE_ISSUED],
            )
        notice = db.get(Notice, loop.notice_id)
        assert notice is not None
        issue_notice(db, SUP, notice, loop.event_ids, RectificationSettings(), "")
    engine.dispose()
    with TestClient(app) as client:
        login(client, "sup1")
        page = client.get("/notifications")
        assert page.status_code == 200
        assert page.text.count('data-state="pending"') == 1 and "b1-mail" in page.text
        assert "整改通知书" in page.text and "待发送 1" in page.text
    with TestClient(app) as client:
        login(client, "sup2")
        assert 'data-state="pending"' not in client.get("/notifications").text
    with TestClient(app) as client:
        login(client, "br1")
        assert client.get("/notifications").status_code == 403
