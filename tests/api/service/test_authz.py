"""Authorization matrix: each role × page, API and media URL of its own and another branch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.db.models import EventRecord
from tests.api.service.conftest import login
from tests.api.service.seed import Seeded

READ_URLS = {
    "page": "/events/{id}",
    "panel": "/review/panel/{id}",
    "api": "/api/events/{id}",
    "still": "/api/events/{id}/still.jpg",
    "clip": "/api/events/{id}/clip.mp4",
}

# user -> kind -> (status for the own branch's event, status for the other branch's event).
# Anonymous pages redirect to the login page (303); anonymous API calls get 401. Events of
# branches a user may not see answer 404, as if they did not exist.
READ_MATRIX: list[tuple[str | None, str, int, int]] = [
    (None, "page", 303, 303),
    (None, "panel", 303, 303),
    (None, "api", 401, 401),
    (None, "still", 401, 401),
    (None, "clip", 401, 401),
    ("admin", "page", 200, 200),
    ("admin", "panel", 200, 200),
    ("admin", "api", 200, 200),
    ("admin", "still", 200, 200),
    ("admin", "clip", 200, 200),
    ("sup1", "page", 200, 404),
    ("sup1", "panel", 200, 404),
    ("sup1", "api", 200, 404),
    ("sup1", "still", 200, 404),
    ("sup1", "clip", 200, 404),
    ("br1", "page", 200, 404),
    ("br1", "panel", 200, 404),
    ("br1", "api", 200, 404),
    ("br1", "still", 200, 404),
    ("br1", "clip", 200, 404),
]

# user -> kind -> (status, whether the event's status changed) for own and other branch.
WRITE_MATRIX: list[tuple[str | None, str, int, int]] = [
    (None, "api", 401, 401),
    (None, "ui", 303, 303),
    ("admin", "api", 200, 200),
    ("admin", "ui", 200, 200),
    ("sup1", "api", 200, 404),
    ("sup1", "ui", 200, 404),
    ("br1", "api", 403, 404),
    ("br1", "ui", 403, 404),
]


class Clients:
    """Logged-in clients and their CSRF tokens, one per user, logged in on first use."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.open: dict[str | None, tuple[TestClient, str]] = {}

    def __getitem__(self, user: str | None) -> tuple[TestClient, str]:
        if user not in self.open:
            client = TestClient(self.app)
            client.__enter__()
            self.open[user] = (client, login(client, user) if user else "")
        return self.open[user]

    def close(self) -> None:
        for client, _ in self.open.values():
            client.__exit__(None, None, None)


@pytest.fixture
def session_as(app: FastAPI) -> Iterator[Clients]:
    """Clients per user (``None``: anonymous)."""
    clients = Clients(app)
    yield clients
    clients.close()


def _status_of(store: Seeded, event_id: int) -> str:
    engine = create_engine(store.url)
    with Session(engine) as db:
        status = db.scalar(select(EventRecord.status).where(EventRecord.id == event_id))
    engine.dispose()
    return str(status)


@pytest.mark.parametrize("user", [None, "admin", "sup1", "br1"])
def test_read_access(session_as: Clients, store: Seeded, user: str | None) -> None:
    client, _ = session_as[user]
    rows = [row for row in READ_MATRIX if row[0] == user]
    assert len(rows) == len(READ_URLS)
    for _, kind, own, other in rows:
        for event_id, expected in ((store.own[0], own), (store.other, other)):
            response = client.get(READ_URLS[kind].format(id=event_id), follow_redirects=False)
            assert response.status_code == expected, (user, kind, event_id, response.text[:200])
            if expected == 303:
                assert response.headers["location"].startswith("/login?next=")
            if expected == 200 and kind == "clip":
                assert response.headers["content-type"] == "video/mp4"
                assert response.content[4:8] == b"ftyp"
            if expected == 200 and kind == "still":
                assert response.content[:2] == b"\xff\xd8"


@pytest.mark.parametrize(("user", "kind", "own", "other"), WRITE_MATRIX)
def test_write_access(
    session_as: Clients,
    store: Seeded,
    user: str | None,
    kind: str,
    own: int,
    other: int,
) -> None:
    client, csrf = session_as[user]
    for event_id, expected in ((store.own[0], own), (store.other, other)):
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        if kind == "api":
            response = client.post(
                f"/api/events/{event_id}/review", json={"action": "confirm"}, headers=headers
            )
        else:
            response = client.post(
                f"/review/{event_id}",
                data={"action": "confirm"},
                headers=headers,
                follow_redirects=False,
            )
        assert response.status_code == expected, (user, kind, event_id, response.text[:200])
        assert _status_of(store, event_id) == ("confirmed" if expected == 200 else "pending")


@pytest.mark.parametrize(
    ("user", "visible"),
    [("admin", {"b1", "b2"}), ("sup1", {"b1"}), ("br1", {"b1"})],
)
def test_lists_hold_only_visible_branches(
    session_as: Clients, user: str, visible: set[str]
) -> None:
    client, _ = session_as[user]
    events = client.get("/api/events", params={"status": "pending"}).json()
    assert {e["branch_id"] for e in events["data"]} == visible
    assert {b["id"] for b in client.get("/api/branches").json()["data"]} == visible
    # Asking for another branch by filter yields nothing rather than its events.
    other = client.get("/api/events", params={"branch": "b2"}).json()
    assert other["count"] == (1 if "b2" in visible else 0)
    queue = client.get("/review", params={"branch": "b2", "status": "all"}).text
    assert ("城西支行" in queue) == ("b2" in visible)
    assert ('data-id="4"' in queue) == ("b2" in visible)


@pytest.mark.parametrize(
    ("user", "api", "page"), [("admin", 200, 200), ("sup1", 200, 200), ("br1", 403, 403)]
)
def test_audit_log_access(session_as: Clients, user: str, api: int, page: int) -> None:
    client, _ = session_as[user]
    assert client.get("/api/audit").status_code == api
    assert client.get("/audit").status_code == page


def test_supervisor_reads_audit_of_own_branches_only(session_as: Clients, store: Seeded) -> None:
    admin, admin_csrf = session_as["admin"]
    admin.post(
        f"/api/events/{store.other}/review",
        json={"action": "confirm"},
        headers={"X-CSRF-Token": admin_csrf},
    )
    sup, _ = session_as["sup1"]
    entries = sup.get("/api/audit").json()["data"]
    assert all(e["branch_id"] in (None, "b1") for e in entries)
    assert all(e["branch_id"] is not None or e["username"] == "sup1" for e in entries)
    everything = admin.get("/api/audit").json()["data"]
    assert any(e["branch_id"] == "b2" and e["action"] == "confirm" for e in everything)
