"""The rectification loop in real headless Chromium: answer, return, answer again, close."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.loop_models import AnswerPhoto
from api.db.session import make_engine
from tests.api.rectification.conftest import CAMERA_MAKE, Loop, photo_with_metadata
from tests.api.service.browser import CHROMIUM, CHROMIUM_ARGS, served
from tests.api.service.seed import PASSWORD


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _login(browser: Browser, server: str, user: str) -> Page:
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    return page


def _answer(page: Page, loop: Loop, words: str, photo: Path | None) -> None:
    for event_id in loop.event_ids:
        page.fill(f"textarea[name=text_{event_id}]", f"{words}（事件 {event_id}）")
    if photo is not None:
        page.set_input_files(f"input[name=photos_{loop.event_ids[0]}]", str(photo))
    page.click("#answer-form button[type=submit]")
    page.wait_for_selector("#case-state[data-state=answered]")


def _state(page: Page) -> str:
    return page.get_attribute("#case-state", "data-state") or ""


def test_answer_return_answer_close(
    server: str, browser: Browser, loop: Loop, tmp_path: Path
) -> None:
    sup = _login(browser, server, "sup1")
    sup.goto(f"{server}/rectification")
    sup.click(f"button[data-issue='{loop.notice_id}']")
    sup.wait_for_selector("#case-state[data-state=issued]")
    case_url = sup.url
    case_id = int(case_url.rsplit("/", 1)[1])

    branch = _login(browser, server, "br1")
    branch.goto(case_url)
    branch.click("#ack")
    branch.wait_for_selector("#case-state[data-state=acknowledged]")
    _answer(branch, loop, "已清理并培训", photo_with_metadata(tmp_path / "fix.jpg"))
    photo_src = branch.get_attribute(".round img.photo", "src")
    assert photo_src is not None
    shown = branch.request.get(f"{server}{photo_src}")
    assert shown.status == 200 and shown.headers["content-type"] == "image/jpeg"

    sup.goto(case_url)
    sup.fill("#decide-form input[name=reason]", "照片未体现整改后的现场")
    sup.click("#return")
    sup.wait_for_selector("#case-state[data-state=returned]")
    assert "照片未体现整改后的现场" in sup.inner_text(".round[data-round='1'] .decision")

    branch.goto(case_url)
    _answer(branch, loop, "补充现场照片，已复查", None)
    assert branch.locator(".round").count() == 2

    sup.goto(case_url)
    sup.click("#close")
    sup.wait_for_selector("#case-state[data-state=closed]")

    sup.goto(f"{server}/audit")
    audit = sup.inner_text("table.grid")
    for step in ("下发整改通知书", "网点签收通知书", "退回整改回复", "验收并关闭通知书"):
        assert step in audit, step
    assert audit.count("网点提交整改回复") == 2

    # The stored photo is a fresh JPEG without the upload's metadata.
    engine = make_engine(loop.url)
    with Session(engine) as db:
        stored = db.scalars(select(AnswerPhoto)).one()
    engine.dispose()
    data = Path(stored.path).read_bytes()
    assert CAMERA_MAKE.encode() not in data and b"GPS" not in data
    with Image.open(stored.path) as image:
        assert image.format == "JPEG" and not image.getexif()

    # Another branch's account sees none of it: page, list, API and photo.
    other = _login(browser, server, "br2")
    assert other.goto(case_url).status == 404  # type: ignore[union-attr]
    other.goto(f"{server}/rectification")
    assert other.locator(f"tr[data-case='{case_id}']").count() == 0
    assert other.request.get(f"{server}/api/rectification/{case_id}").status == 404
    assert other.request.get(f"{server}/api/rectification").json() == []
    assert other.request.get(f"{server}{photo_src}").status == 404
    assert httpx.get(f"{server}{photo_src}", follow_redirects=False).status_code == 303
