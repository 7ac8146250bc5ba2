"""Real headless Chromium against the real server: log in, review with the keyboard.

Clips playing in the browser are tested on the demo's own clips (``test_demo_clips.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.db.models import EventRecord
from api.service.app import create_app
from api.store import Store
from rules.items.counter import CounterCrowdingParams, counter_crowding
from tests.api.service.browser import CHROMIUM, CHROMIUM_ARGS, log_in, served
from tests.api.service.conftest import make_settings
from tests.api.service.seed import PASSWORD, Seeded
from tests.rules.factories import COUNTER_ZONES, Person, Scene, make_context, make_timeline
from vision.types import Role

APP_REQUESTS = ("document", "fetch", "xhr")


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


def _store_crowding(url: str, evidence_of: int) -> int:
    """A COUNTER_CROWDING event as the scan makes it: the rule over a timeline of three
    customers at window 1, stored with the evidence files of another event."""
    scene = Scene(
        zones=COUNTER_ZONES,
        duration_s=600,
        people=[
            Person(1, Role.CUSTOMER, 0, 600, ("w1",)),
            Person(2, Role.CUSTOMER, 100, 200, ("w1",)),
            Person(3, Role.CUSTOMER, 120, 180, ("w1",)),
        ],
    )
    (event,) = counter_crowding(
        make_timeline(scene, camera="c1"), make_context(scene), CounterCrowdingParams()
    )
    event = replace(event, camera="c1")
    engine = create_engine(url)
    with Session(engine) as db:
        evidence = db.scalars(
            select(EventRecord.evidence).where(EventRecord.id == evidence_of)
        ).one()
        Store(db).add_events([event], "yolo11n-pose@test", None, None, {event.key: evidence})
        db.commit()
        event_id = db.scalars(select(EventRecord.id).where(EventRecord.key == event.key)).one()
    engine.dispose()
    return int(event_id)


def _inside_viewport(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def test_review_at_1366x768_without_scrolling(server: str, store: Seeded, tmp_path: Path) -> None:
    """On a common office laptop screen the decision buttons are visible without scrolling,
    the still can be enlarged, and a crowding event lists the customers it is about."""
    crowding = _store_crowding(store.url, store.own[0])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            log_in(page, server, "sup1", PASSWORD)
            page.goto(f"{server}/review?item=COUNTER_CROWDING")
            panel = page.locator("#panel")
            assert panel.get_attribute("data-event-id") == str(crowding)
            page.wait_for_function("() => document.querySelector('.still-open img').complete")
            page.screenshot(path=str(tmp_path / "review-1366.png"))
            assert page.evaluate("() => window.scrollY") == 0
            assert _inside_viewport(page, "button.confirm")
            assert _inside_viewport(page, "button.dismiss")
            people = page.locator("#panel ul.people li").all_inner_texts()
            assert sorted(people) == ["客户 #1", "客户 #2", "客户 #3"]

            small = page.locator(".still-open img").bounding_box()
            page.keyboard.press("z")
            page.wait_for_selector("#still-view[open]")
            big = page.locator("#still-view img").bounding_box()
            assert small is not None and big is not None
            assert big["width"] > 1.5 * small["width"]
            page.screenshot(path=str(tmp_path / "still-enlarged.png"))
            page.keyboard.press("c")  # no decision while the still is enlarged
            page.keyboard.press("Escape")
            page.wait_for_selector("#still-view", state="hidden")
            assert _status(store.url, crowding) == "pending"

            page.locator(".still-open").click()
            page.wait_for_selector("#still-view[open]")
            page.keyboard.press("Escape")
            page.wait_for_selector("#still-view", state="hidden")
            page.locator("button.confirm").click()
            page.wait_for_function(
                f"() => document.getElementById('panel').dataset.eventId !== '{crowding}'"
            )
            assert page.evaluate("() => window.scrollY") == 0
            assert _status(store.url, crowding) == "confirmed"
        finally:
            browser.close()
