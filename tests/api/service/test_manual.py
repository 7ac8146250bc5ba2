"""Manual findings (人工检查项): recorded in the UI with a footage frame or a photo, then scored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.db.auth_models import AuditLog
from api.db.models import EventRecord, Review
from api.service.app import create_app
from rules.coverage import MANUAL_RULE_VERSION
from tests.api.service.conftest import login, make_settings
from tests.api.service.seed import Seeded

# the seeded footage of b1/c1 runs 09:30:00–09:30:30 local time on 2026-11-20
IN_FOOTAGE = "2026-11-20T09:30:12"
NO_FOOTAGE = "2026-11-20T15:00:00"


@pytest.fixture
def manual_client(store: Seeded, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(store.url, scheme="xiaowei", evidence_dir=tmp_path / "ev"))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _post(client: TestClient, csrf: str, photo: bytes | None = None, **fields: str) -> object:
    data = {"branch": "b1", "camera": "c1", "item": "UNIFORM", "at": IN_FOOTAGE, "note": "未系领带"}
    data.update(fields)
    files = {"photo": ("photo.png", photo, "image/png")} if photo is not None else None
    return client.post(
        "/manual",
        data={**data, "csrf_token": csrf},
        files=files,
        follow_redirects=False,
    )


def test_manual_finding_from_footage_is_confirmed_audited_and_scored(
    manual_client: TestClient, store: Seeded
) -> None:
    csrf = login(manual_client, "sup1")
    page = manual_client.get("/manual").text
    assert "人工检查项" in page and "着装不规范" in page
    before = manual_client.get("/api/branches", params={"period": "2026-11"}).json()
    assert {b["id"]: b["score"] for b in before["data"]}["b1"] == 100

    response = _post(manual_client, csrf)
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    event_id = int(response.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    with Session(create_engine(store.url)) as db:
        row = db.get(EventRecord, event_id)
        assert row is not None
        assert (row.status, row.item, row.rule_version) == ("confirmed", "UNIFORM", "manual")
        assert row.rule_version == MANUAL_RULE_VERSION
        assert row.details == {"source": "footage", "note": "未系领带", "recorded_by": "sup1"}
        assert row.video_id is not None
        still = cv2.imread(row.evidence["still"])
        assert still is not None and still.shape[0] > 0
        reviews = db.scalars(select(Review).where(Review.event_id == event_id)).all()
        assert [(r.reviewer, r.action) for r in reviews] == [("sup1", "manual")]
        audit = db.scalars(select(AuditLog).where(AuditLog.action == "manual_finding")).one()
        assert audit.target == f"event:{event_id}"
    assert manual_client.get(f"/api/events/{event_id}/still.jpg").status_code == 200
    after = manual_client.get("/api/branches", params={"period": "2026-11"}).json()
    assert {b["id"]: b["score"] for b in after["data"]}["b1"] == 97  # UNIFORM: 3 points
    # the same finding twice is refused, not stored twice
    again = _post(manual_client, csrf)
    assert again.status_code == 422 and "已有人工检查记录" in again.text  # type: ignore[attr-defined]


def test_manual_finding_with_an_uploaded_photo(manual_client: TestClient, store: Seeded) -> None:
    csrf = login(manual_client, "sup1")
    image = np.full((120, 160, 3), (40, 90, 200), np.uint8)
    ok, png = cv2.imencode(".png", image)
    assert ok
    response = _post(manual_client, csrf, png.tobytes(), at=NO_FOOTAGE, item="STAFF_READING")
    assert response.status_code == 303  # type: ignore[attr-defined]
    event_id = int(response.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    with Session(create_engine(store.url)) as db:
        row = db.get(EventRecord, event_id)
        assert row is not None and row.details["source"] == "photo" and row.video_id is None
        still = cv2.imread(row.evidence["still"])
        assert still is not None and still.shape[:2] == (120, 160)


@pytest.mark.parametrize(
    ("fields", "photo", "message"),
    [
        ({"at": NO_FOOTAGE}, None, "没有录像"),
        ({}, b"not an image", "无法读取上传的照片"),
        ({"item": "NOT_AN_ITEM"}, None, "未知的检查项目"),
    ],
)
def test_manual_finding_problems_are_explained(
    manual_client: TestClient,
    store: Seeded,
    fields: dict[str, str],
    photo: bytes | None,
    message: str,
) -> None:
    csrf = login(manual_client, "sup1")
    response = _post(manual_client, csrf, photo, **fields)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.text  # type: ignore[attr-defined]
    with Session(create_engine(store.url)) as db:
        assert not db.scalars(
            select(EventRecord).where(EventRecord.rule_version == MANUAL_RULE_VERSION)
        ).all()


def test_supervisor_of_another_branch_may_not_record(manual_client: TestClient) -> None:
    csrf = login(manual_client, "sup2")
    assert _post(manual_client, csrf).status_code == 403  # type: ignore[attr-defined]
