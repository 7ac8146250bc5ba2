"""Audit of access: every view of a still, clip or notice, every generation; the CSV export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.db.auth_models import AuditLog
from api.service.routes import notices as notice_routes
from tests.api.service.conftest import login
from tests.api.service.seed import Seeded

VIEWS = ("still_viewed", "clip_viewed", "notice_downloaded")


def _audit(store: Seeded) -> list[AuditLog]:
    with Session(create_engine(store.url)) as db:
        return list(db.scalars(select(AuditLog).order_by(AuditLog.id)))


def _with_notice_dir(app: FastAPI, folder: Path) -> None:
    settings = notice_routes.NoticeSettings(dir=folder)
    app.dependency_overrides[notice_routes.get_notice_settings] = lambda: settings


def test_views_of_a_still_a_clip_and_a_notice_are_audited(
    app: FastAPI, client: TestClient, store: Seeded, tmp_path: Path
) -> None:
    _with_notice_dir(app, tmp_path / "notices")
    csrf = login(client, "sup1")
    event = store.own[0]
    made = client.post(
        "/notices/b1/2026-11-20/generate",
        data={"csrf_token": csrf, "preview": "true"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert client.get(f"/api/events/{event}/still.jpg").status_code == 200
    assert client.get(f"/api/events/{event}/clip.mp4").status_code == 200
    notice = client.get("/notices/files/1/pdf")
    assert notice.status_code == 200 and notice.content.startswith(b"%PDF")
    assert "no-store" in notice.headers["cache-control"]
    # A player's later range requests of the same clip are the same view.
    later = client.get(f"/api/events/{event}/clip.mp4", headers={"Range": "bytes=1000-"})
    assert later.status_code == 206

    rows = _audit(store)
    views = [r for r in rows if r.action in VIEWS]
    assert [r.action for r in views] == list(VIEWS)
    assert {(r.username, r.ip, r.branch_id) for r in views} == {("sup1", "testclient", "b1")}
    assert [r.target for r in views] == [f"event:{event}", f"event:{event}", "notice:1"]
    generated = [r for r in rows if r.action == "notice_generated"]
    assert len(generated) == 1 and generated[0].username == "sup1"
    assert generated[0].after is not None and generated[0].after["preview"] is True


def test_admin_exports_the_audit_log(app: FastAPI, client: TestClient, store: Seeded) -> None:
    login(client, "sup1")
    client.get(f"/api/events/{store.own[0]}/still.jpg")
    assert client.get("/api/audit/export").status_code == 403  # supervisors read, not export
    client.cookies.clear()
    login(client, "admin")
    response = client.get("/api/audit/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    # The export is itself recorded, before the records are read.
    assert [r["action"] for r in table] == ["login", "still_viewed", "login", "audit_exported"]
    assert table[1]["username"] == "sup1" and table[1]["target"] == f"event:{store.own[0]}"
    assert table[3]["username"] == "admin"
    since = client.get("/api/audit/export", params={"since": "9999-12-31T23:00:00+08:00"})
    assert since.status_code == 200 and since.text.count("\n") == 1  # the header only
