"""Concurrent requests against a real uvicorn server, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import TokenScope, create_api_token
from api.db.auth_models import ApiToken, User
from api.db.models import EventRecord, Review, utcnow
from api.db.session import make_engine
from api.service.app import create_app
from tests.api.service.browser import served
from tests.api.service.conftest import make_settings
from tests.api.service.seed import SECRET, Seeded

CLIENTS = 10


def _token(url: str, username: str) -> tuple[int, str]:
    engine = make_engine(url)
    with Session(engine) as db:
        user = db.scalars(select(User).where(User.username == username)).one()
        plain, row = create_api_token(
            db, user.id, "test", SECRET, frozenset(TokenScope), utcnow() + timedelta(days=1)
        )
        db.commit()
        token_id = row.id
    engine.dispose()
    return token_id, plain


def test_one_event_confirmed_by_ten_clients_at_once(backend_store: Seeded) -> None:
    _, token = _token(backend_store.url, "sup1")
    event_id = backend_store.own[0]
    app = create_app(make_settings(backend_store.url))
    start = threading.Barrier(CLIENTS)

    with served(app) as base:

        def confirm(_: int) -> int:
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as c:
                start.wait()
                answer = c.post(f"/api/events/{event_id}/review", json={"action": "confirm"})
                return answer.status_code

        with ThreadPoolExecutor(CLIENTS) as pool:
            codes = sorted(pool.map(confirm, range(CLIENTS)))

    engine = make_engine(backend_store.url)
    with Session(engine) as db:
        reviews = db.scalar(select(func.count(Review.id)).where(Review.event_id == event_id))
        event = db.get(EventRecord, event_id)
        assert event is not None and event.status == "confirmed"
    engine.dispose()
    app.state.engine.dispose()
    assert codes == [200] + [409] * (CLIENTS - 1)
    assert reviews == 1


def test_token_use_is_written_at_most_once_a_minute(backend_store: Seeded) -> None:
    token_id, token = _token(backend_store.url, "sup1")
    app = create_app(make_settings(backend_store.url))
    with (
        served(app) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client,
    ):
        first = client.get("/api/me")
        engine = make_engine(backend_store.url)
        with Session(engine) as db:
            used = db.get(ApiToken, token_id)
            assert used is not None and used.last_used_at is not None
            stamp = used.last_used_at
        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(lambda _: client.get("/api/events").status_code, range(20)))
        with Session(engine) as db:
            again = db.get(ApiToken, token_id)
            assert again is not None and again.last_used_at == stamp
        engine.dispose()
    app.state.engine.dispose()
    assert first.status_code == 200
    assert codes == [200] * 20
