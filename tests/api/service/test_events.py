"""The events API and the review pages: paging, review decisions, audit, evidence files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from api.db.auth_models import AuditLog
from api.db.models import EventRecord, Review
from api.labels import detail_value
from tests.api.service.conftest import login
from tests.api.service.seed import Seeded


def _db(store: Seeded) -> Session:
    return Session(create_engine(store.url))


@pytest.mark.parametrize(
    ("params", "ids", "count"),
    [
        ({}, [0, 1, 2], 3),
        ({"limit": 2}, [0, 1], 3),
        ({"limit": 2, "offset": 2}, [2], 3),
        ({"item": "GUARD_POSTURE"}, [0], 1),
        ({"camera": "c9"}, [], 0),
        ({"day": "2026-11-20"}, [0, 1, 2], 3),
        ({"day": "2026-11-21"}, [], 0),
        ({"status": "confirmed"}, [], 0),
    ],
)
def test_list_filters_and_pages(
    client: TestClient, store: Seeded, params: dict[str, object], ids: list[int], count: int
) -> None:
    login(client, "sup1")
    body = client.get("/api/events", params=params).json()
    assert [e["id"] for e in body["data"]] == [store.own[i] for i in ids]
    assert body["count"] == count


@pytest.mark.parametrize(
    ("body", "status", "after"),
    [
        ({"action": "confirm"}, 200, "confirmed"),
        ({"action": "dismiss", "reason": "误报"}, 200, "dismissed"),
        ({"action": "dismiss"}, 422, "pending"),  # a dismissal needs a reason
        ({"action": "reopen"}, 409, "pending"),  # already pending: nothing to do
        ({"action": "confirm", "expected_status": "dismissed"}, 409, "pending"),
        ({"action": "relabel", "item": "STAFF_SLEEPING", "reason": "实为睡岗"}, 200, "pending"),
        ({"action": "relabel", "item": "NOT_AN_ITEM", "reason": "x"}, 409, "pending"),
        ({"action": "confirm", "extra": 1}, 422, "pending"),
    ],
)
def test_review_decisions(
    client: TestClient, store: Seeded, body: dict[str, object], status: int, after: str
) -> None:
    csrf = login(client, "sup1")
    event_id = store.own[0]
    response = client.post(
        f"/api/events/{event_id}/review", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == status, response.text
    with _db(store) as db:
        event = db.get(EventRecord, event_id)
        assert event is not None and event.status == after
        reviews = db.scalar(select(func.count(Review.id)).where(Review.event_id == event_id))
        audits = list(db.scalars(select(AuditLog).where(AuditLog.target == f"event:{event_id}")))
    assert reviews == (1 if status == 200 else 0)
    assert len(audits) == (1 if status == 200 else 0)
    if status == 200:
        assert response.json()["status"] == after
        assert audits[0].before == {"status": "pending", "item": "GUARD_POSTURE"}
        assert audits[0].after is not None and audits[0].after["status"] == after
        assert audits[0].username == "sup1"


def test_reviews_accumulate_and_events_stay(client: TestClient, store: Seeded) -> None:
    csrf = login(client, "admin")
    event_id = store.own[1]
    for action, reason in (("confirm", ""), ("reopen", ""), ("dismiss", "遮挡")):
        response = client.post(
            f"/api/events/{event_id}/review",
            json={"action": action, "reason": reason},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 200, response.text
    detail = client.get(f"/api/events/{event_id}").json()
    assert [(r["action"], r["after_status"]) for r in detail["reviews"]] == [
        ("confirm", "confirmed"),
        ("reopen", "pending"),
        ("dismiss", "dismissed"),
    ]
    assert detail["reviews"][-1]["reason"] == "遮挡"
    assert (
        client.delete(f"/api/events/{event_id}", headers={"X-CSRF-Token": csrf}).status_code == 405
    )
    with _db(store) as db:
        assert db.scalar(select(func.count(EventRecord.id))) == 4


def test_queue_review_is_one_request_answering_the_next_event(
    client: TestClient, store: Seeded
) -> None:
    csrf = login(client, "sup1")
    first, second, _ = store.own
    response = client.post(
        f"/review/{first}?status=pending",
        data={"action": "confirm", "expected_status": "pending"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 200
    assert response.headers["X-Reviewed-Id"] == str(first)
    assert response.headers["X-Reviewed-Status"] == "confirmed"
    assert re.search(rf'id="panel"[^>]*data-event-id="{second}"', response.text)
    assert f"/api/events/{second}/clip.mp4" in response.text
    stay = client.post(
        f"/review/{second}",
        data={"action": "dismiss", "reason": "误报", "stay": "true"},
        headers={"X-CSRF-Token": csrf},
    )
    assert re.search(rf'data-event-id="{second}" data-status="dismissed"', stay.text)


def test_relabel_from_the_page(client: TestClient, store: Seeded) -> None:
    csrf = login(client, "sup1")
    event_id = store.own[0]
    page = client.get(f"/review/panel/{event_id}").text
    assert 'value="STAFF_SLEEPING"' in page and 'value="GUARD_POSTURE"' not in page
    response = client.post(
        f"/review/{event_id}",
        data={"action": "relabel", "item": "STAFF_SLEEPING", "reason": "实为睡岗", "stay": "true"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 200
    assert "员工睡觉" in response.text and "改判检查项" in response.text
    assert client.get(f"/api/events/{event_id}").json()["item"] == "STAFF_SLEEPING"
    missing_reason = client.post(
        f"/review/{event_id}",
        data={"action": "relabel", "item": "GUARD_POSTURE"},
        headers={"X-CSRF-Token": csrf},
    )
    assert missing_reason.status_code == 422


def test_queue_page_reads_in_chinese(client: TestClient, store: Seeded) -> None:
    login(client, "sup1")
    page = client.get("/review").text
    for text in ("复核队列", "保安坐姿不端正", "待复核", "确认违规", "排除原因", "城东支行"):
        assert text in page
    detail = client.get(f"/events/{store.own[0]}").text
    for text in (
        "人员与角色",
        "保安",
        "规则参数",
        "最短持续（秒）",
        "seated_fraction",
        "观测时间线",
    ):
        assert text in detail
    assert "客户 #2" in detail


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("label", "cup", "水杯"),
        ("label", "unknown object", "未识别物品"),
        ("label", "toothbrush", "toothbrush"),  # no Chinese name: shown as it is
        ("confidence", 0.5, "0.5"),
        ("postures", ["arms_crossed", "legs_crossed"], "双臂抱于胸前、翘二郎腿"),
        ("observed", {"hands_at_hip": 0.92, "leaning": 0.1}, "手插口袋/叉腰 92%、身体歪斜 10%"),
    ],
)
def test_detail_values_in_words(key: str, value: object, shown: str) -> None:
    assert detail_value(key, value) == shown


@pytest.mark.parametrize(
    ("range_header", "status", "content_range", "length"),
    [
        ("bytes=0-99", 206, "bytes 0-99/{size}", 100),
        ("bytes=100-", 206, "bytes 100-{last}/{size}", -100),
        ("bytes=-50", 206, "bytes {tail}-{last}/{size}", 50),
        (None, 200, None, 0),
        ("bytes={size}-", 416, "bytes */{size}", None),
    ],
)
def test_clip_range_requests(
    client: TestClient,
    store: Seeded,
    range_header: str | None,
    status: int,
    content_range: str | None,
    length: int | None,
) -> None:
    login(client, "br1")
    size = store.clip_size
    values = {"size": size, "last": size - 1, "tail": size - 50}
    headers = {"Range": range_header.format(**values)} if range_header else {}
    response = client.get(f"/api/events/{store.own[0]}/clip.mp4", headers=headers)
    assert response.status_code == status
    if status != 416:
        assert response.headers["accept-ranges"] == "bytes"
        assert "no-store" in response.headers["cache-control"]
    if content_range is not None:
        assert response.headers["content-range"] == content_range.format(**values)
    if length is not None:
        expected = length if length > 0 else size + length
        assert len(response.content) == (expected if length else size)


def test_tampered_evidence_is_refused(client: TestClient, store: Seeded) -> None:
    login(client, "admin")
    with _db(store) as db:
        event = db.get(EventRecord, store.own[2])
        assert event is not None
        copy = Path(event.evidence["still"]).with_name("other.jpg")
        copy.write_bytes(Path(event.evidence["still"]).read_bytes() + b"x")
        event.evidence = {**event.evidence, "still": str(copy)}
        db.commit()
    assert client.get(f"/api/events/{store.own[2]}/still.jpg").status_code == 409
    assert client.get(f"/api/events/{store.own[1]}/still.jpg").status_code == 200


def test_overview_counts_and_scores(client: TestClient, store: Seeded) -> None:
    csrf = login(client, "admin")
    client.post(
        f"/api/events/{store.own[0]}/review",
        json={"action": "confirm"},
        headers={"X-CSRF-Token": csrf},
    )
    body = client.get("/api/branches", params={"period": "2026-11"}).json()
    branches = {b["id"]: b for b in body["data"]}
    assert body["period"] == "2026-11"
    assert (branches["b1"]["pending"], branches["b1"]["confirmed"]) == (2, 1)
    assert (branches["b2"]["pending"], branches["b2"]["confirmed"]) == (1, 0)
    # Only the confirmed event costs points; pending ones do not count yet.
    assert branches["b1"]["deducted"] > 0
    assert branches["b1"]["score"] == 100 - branches["b1"]["deducted"]
    assert (branches["b2"]["score"], branches["b2"]["rank"]) == (100, 1)
    assert client.get("/api/branches", params={"period": "2026-13"}).status_code == 422
    page = client.get("/", params={"period": "2026-11"}).text
    assert "城东支行" in page and "进入复核" in page and "考核金额（元）" in page
    assert "无法计算得分" in client.get("/", params={"period": "2026-99"}).text


def test_overview_opens_on_the_latest_period_with_data(client: TestClient, store: Seeded) -> None:
    """Not the running month (which may hold nothing yet): the month of the newest event;
    its counts, money and deductions per item follow the period shown."""
    csrf = login(client, "admin")
    client.post(
        f"/api/events/{store.own[0]}/review",
        json={"action": "confirm"},
        headers={"X-CSRF-Token": csrf},
    )
    body = client.get("/api/branches").json()
    assert body["period"] == "2026-11"
    b1 = next(b for b in body["data"] if b["id"] == "b1")
    assert (b1["pending"], b1["confirmed"], b1["money"]) == (2, 1, 200.0)
    before = client.get("/api/branches", params={"period": "2026-10"}).json()
    b1 = next(b for b in before["data"] if b["id"] == "b1")
    assert (b1["pending"], b1["confirmed"], b1["money"]) == (0, 0, 0.0)
    page = client.get("/").text
    assert '概览 <span class="muted">2026-11</span>' in page
    assert "保安坐姿不端正 1次 −1分 200元" in page  # deductions per item
    assert "<polyline points=" in page  # the score trend
    assert "/branches/b1/scorecard?period=2026-11" in page
    assert "/branches/b1/heat/c1.png?period=2026-11" in page


def test_scorecard_page_and_heat_map(client: TestClient, store: Seeded) -> None:
    csrf = login(client, "admin")
    client.post(
        f"/api/events/{store.own[0]}/review",
        json={"action": "confirm"},
        headers={"X-CSRF-Token": csrf},
    )
    page = client.get("/branches/b1/scorecard", params={"period": "2026-11"})
    assert page.status_code == 200
    assert "城东支行 评分卡" in page.text and "扣分明细" in page.text
    assert "保安坐姿不端正" in page.text and "200.00" in page.text
    heat = client.get("/branches/b1/heat/c1.png", params={"period": "2026-11"})
    assert heat.status_code == 200 and heat.content.startswith(b"\x89PNG")
    assert client.get("/branches/b1/heat/c1.png", params={"period": "2026-10"}).status_code == 404
    assert client.get("/branches/nosuch/scorecard").status_code == 404


def test_branch_account_sees_only_its_own_scorecard(client: TestClient) -> None:
    login(client, "br1")
    assert client.get("/branches/b1/scorecard").status_code == 200
    assert client.get("/branches/b2/scorecard").status_code == 404
    assert client.get("/branches/b2/heat/c1.png", params={"period": "2026-11"}).status_code == 404


def test_openapi_schema_is_public_and_typed(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    listed = schema["paths"]["/api/events"]["get"]["responses"]["200"]["content"]
    assert json.dumps(listed).count("EventsPublic") == 1
    assert all(path.startswith("/api/") for path in schema["paths"])
