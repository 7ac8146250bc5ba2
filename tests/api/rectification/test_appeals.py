"""Appeals: the branch appeals a confirmed event; another supervisor upholds or overturns it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.auth import Role, add_user
from api.db.auth_models import AuditLog
from api.db.models import EventRecord, Review
from api.db.session import make_engine
from api.notices import build_notice
from tests.api.rectification.conftest import PERIOD, Loop
from tests.api.service.conftest import login
from tests.api.service.seed import PASSWORD


@pytest.fixture
def event_id(loop: Loop) -> int:
    """The pending clutter event of b1, plus a second supervisor of b1 (sup1b)."""
    engine = make_engine(loop.url)
    with Session(engine) as db:
        add_user(db, "sup1b", PASSWORD, Role.SUPERVISOR, ["b1"])
        db.commit()
        found = db.scalar(
            select(EventRecord.id).where(
                EventRecord.branch_id == "b1", EventRecord.status == "pending"
            )
        )
    engine.dispose()
    assert found is not None
    return int(found)


def _client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def sup(app: FastAPI) -> Iterator[TestClient]:
    yield from _client(app)


@pytest.fixture
def branch(app: FastAPI) -> Iterator[TestClient]:
    yield from _client(app)


def _lines(url: str) -> set[int]:
    engine = make_engine(url)
    with Session(engine) as db:
        lines = {line.event_id for line in build_notice(db, "b1", PERIOD).lines}
    engine.dispose()
    return lines


def test_overturned_appeal_leaves_score_and_new_notices(
    loop: Loop, event_id: int, sup: TestClient, branch: TestClient, app: FastAPI
) -> None:
    sup_csrf = login(sup, "sup1")
    confirmed = sup.post(
        f"/api/events/{event_id}/review",
        json={"action": "confirm"},
        headers={"X-CSRF-Token": sup_csrf},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert event_id in _lines(loop.url)

    br_csrf = login(branch, "br1")
    headers = {"X-CSRF-Token": br_csrf}
    assert (
        branch.post(
            f"/api/events/{event_id}/appeal", json={"reason": " "}, headers=headers
        ).status_code
        == 422
    )
    filed = branch.post(
        f"/api/events/{event_id}/appeal",
        json={"reason": "画面中为客户遗留物，已即时清理"},
        headers=headers,
    )
    assert filed.status_code == 201, filed.text
    appeal_id = filed.json()["id"]
    again = branch.post(f"/api/events/{event_id}/appeal", json={"reason": "再次"}, headers=headers)
    assert again.status_code == 409
    assert (
        branch.post(
            f"/api/appeals/{appeal_id}/decision",
            json={"overturn": True, "reason": "x"},
            headers=headers,
        ).status_code
        == 403
    )

    own = sup.post(
        f"/api/appeals/{appeal_id}/decision",
        json={"overturn": True, "reason": "同意"},
        headers={"X-CSRF-Token": sup_csrf},
    )
    assert own.status_code == 403  # sup1 confirmed the event

    with TestClient(app) as other:
        other_csrf = login(other, "sup1b")
        decided = other.post(
            f"/api/appeals/{appeal_id}/decision",
            json={"overturn": True, "reason": "复核录像确认为客户物品"},
            headers={"X-CSRF-Token": other_csrf},
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["state"] == "overturned"
        assert other.get(f"/api/events/{event_id}").json()["status"] == "dismissed"
        actions = [a["action"] for a in other.get("/api/audit").json()["data"]]
    assert event_id not in _lines(loop.url)
    assert {"confirm", "appeal_filed", "appeal_overturned"} <= set(actions)


def test_appeal_after_the_deadline_is_refused(
    loop: Loop, event_id: int, sup: TestClient, branch: TestClient
) -> None:
    sup_csrf = login(sup, "sup1")
    sup.post(
        f"/api/events/{event_id}/review",
        json={"action": "confirm"},
        headers={"X-CSRF-Token": sup_csrf},
    )
    engine = make_engine(loop.url)
    with Session(engine) as db:
        review = db.scalars(select(Review).where(Review.event_id == event_id)).one()
        db.execute(
            update(Review)
            .where(Review.id == review.id)
            .values(created_at=review.created_at - timedelta(days=30))
        )
        db.commit()
    engine.dispose()
    br_csrf = login(branch, "br1")
    late = branch.post(
        f"/api/events/{event_id}/appeal", json={"reason": "误判"}, headers={"X-CSRF-Token": br_csrf}
    )
    assert late.status_code == 409 and "期限" in late.json()["detail"]


def test_upheld_appeal_keeps_the_event_and_other_branches_see_nothing(
    loop: Loop, event_id: int, sup: TestClient, branch: TestClient, app: FastAPI
) -> None:
    sup_csrf = login(sup, "sup1")
    sup.post(
        f"/api/events/{event_id}/review",
        json={"action": "confirm"},
        headers={"X-CSRF-Token": sup_csrf},
    )
    br_csrf = login(branch, "br1")
    page = branch.get(f"/events/{event_id}")
    assert "提出申诉" in page.text
    form = branch.post(
        f"/events/{event_id}/appeal",
        data={"reason": "当时正在处理业务", "csrf_token": br_csrf},
        follow_redirects=False,
    )
    assert form.status_code == 303
    appeal_id = branch.get("/api/appeals").json()[0]["id"]
    with TestClient(app) as other:
        login(other, "br2")
        assert other.get("/api/appeals").json() == []
        assert other.get(f"/api/events/{event_id}").status_code == 404
    with TestClient(app) as second:
        csrf = login(second, "sup1b")
        assert "当时正在处理业务" in second.get("/appeals").text
        done = second.post(
            f"/appeals/{appeal_id}/decide",
            data={"decision": "uphold", "reason": "录像显示空岗", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert second.get(f"/api/events/{event_id}").json()["status"] == "confirmed"
    engine = make_engine(loop.url)
    with Session(engine) as db:
        upheld = db.scalars(select(AuditLog).where(AuditLog.action == "appeal_upheld")).one()
    engine.dispose()
    assert upheld.username == "sup1b" and upheld.target == f"event:{event_id}"
