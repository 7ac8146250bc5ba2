"""Real headless Chromium against the real server: log in, review with the keyboard.

Clips playing in the browser are tested on the demo's own clips (``test_demo_clips.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.db.models import EventRecord
from api.service.app import create_app
from tests.api.service.browser import CHROMIUM, CHROMIUM_ARGS, served
from tests.api.service.conftest import make_settings
from tests.api.service.seed import PASSWORD, Seeded

APP_REQUESTS = ("document", "fetch", "xhr")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")


@pytest.fixture
def server(store: Seeded) -> Iterator[str]:
    """The service run by uvicorn in a thread on a free local port."""
    app = create_app(make_settings(store.url))
    with served(app) as url:
        yield url
    app.state.engine.dispose()


def _status(url: str, event_id: int) -> str:
    engine = create_engine(url)
    with Session(engine) as db:
        status = db.scalar(select(EventRecord.status).where(EventRecord.id == event_id))
    engine.dispose()
    return str(status)


def test_keyboard_review_in_chromium(server: str, store: Seeded, tmp_path: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page.goto(f"{server}/review")
            assert "/login" in page.url
            page.fill("input[name=username]", "sup1")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/review")
            first, second, third = store.own
            panel = page.locator("#panel")
            assert panel.get_attribute("data-event-id") == str(first)

            page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

            requests: list[str] = []
            page.on(
                "request",
                lambda r: (
                    requests.append(f"{r.method} {r.url}")
                    if r.resource_type in APP_REQUESTS
                    else None
                ),
            )
            page.keyboard.press("c")
            page.wait_for_selector(f'#panel[data-event-id="{second}"]')
            assert requests == [f"POST {server}/review/{first}?status=pending"]
            row = page.locator(f'#event-list tr[data-id="{first}"] .badge')
            assert row.inner_text() == "已确认"
            assert _status(store.url, first) == "confirmed"

            requests.clear()
            page.keyboard.press("d")
            page.keyboard.press("1")
            page.wait_for_selector(f'#panel[data-event-id="{third}"]')
            assert len(requests) == 1 and requests[0].startswith(f"POST {server}/review/{second}")
            assert _status(store.url, second) == "dismissed"

            page.keyboard.press("k")
            page.wait_for_selector(f'#panel[data-event-id="{second}"]')
            assert "已排除" in page.locator("#panel .panel-head").inner_text()
            page.keyboard.press("j")
            page.wait_for_selector(f'#panel[data-event-id="{third}"]')

            page.goto(f"{server}/events/{first}")
            page.wait_for_selector(".strip-svg")
            page.screenshot(path=str(tmp_path / "event.png"), full_page=True)

            page.goto(f"{server}/audit")
            assert page.locator("table.grid tbody tr").count() >= 3  # login, confirm, dismiss
            page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
            page.goto(f"{server}/?period=2026-11")
            assert "城东支行" in page.inner_text("table.grid")
            page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
        finally:
            browser.close()
