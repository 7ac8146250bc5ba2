"""The demo's own evidence clips, cut by its scan, play in real headless Chromium from the
review service. The stored clip matches the sha256 stored with its event; what the browser
receives is a marked copy of it (viewer and hour), never the stored file changed."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Role, add_user
from api.db.models import EventRecord
from api.db.session import make_engine
from api.service.app import create_app
from api.service.media import EvidenceKind, checked_evidence
from tests.api.service.browser import CHROMIUM, CHROMIUM_ARGS, log_in, served
from tests.api.service.conftest import make_settings
from tests.api.service.seed import PASSWORD
from vision.digest import file_sha256


@pytest.fixture
def demo_store(demo_run: tuple[Path, str], tmp_path: Path) -> Iterator[str]:
    """A copy of the demo's database (clips stay where the scan wrote them) with a supervisor."""
    out, _ = demo_run
    copy = tmp_path / "demo.db"
    shutil.copy(out / "branchwatch.db", copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with Session(engine) as db:
        add_user(db, "sup", PASSWORD, Role.SUPERVISOR, branches=["demo"])
        db.commit()
    engine.dispose()
    yield url


def test_demo_clips_play_in_chromium(demo_store: str) -> None:
    engine = make_engine(demo_store)
    with Session(engine) as db:
        events = list(db.scalars(select(EventRecord).where(EventRecord.video_id.is_not(None))))
    engine.dispose()
    assert events and all(e.evidence.get("clip") for e in events)
    app = create_app(make_settings(demo_store))
    with served(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            log_in(page, url, "sup", PASSWORD)
            page.goto(f"{url}/review")  # the queue: its clip plays, and r replays it
            page.wait_for_function(
                "() => document.getElementById('clip').currentTime > 1.5", timeout=20_000
            )
            page.keyboard.press("r")
            assert page.evaluate("() => document.getElementById('clip').currentTime") < 1.0
            for event in events:
                page.goto(f"{url}/events/{event.id}")
                page.wait_for_function(
                    "() => { const v = document.getElementById('clip');"
                    " return v && v.readyState >= 2 && v.videoWidth > 0; }",
                    timeout=20_000,
                )
                page.wait_for_function(
                    "() => document.getElementById('clip').currentTime > 0.5", timeout=20_000
                )
                body = page.request.get(f"{url}/api/events/{event.id}/clip.mp4").body()
                stored = checked_evidence(event, EvidenceKind.CLIP)
                assert file_sha256(stored) == event.evidence["clip_sha256"]
                assert (
                    body[4:8] == b"ftyp"
                    and hashlib.sha256(body).hexdigest() != (event.evidence["clip_sha256"])
                )  # the viewer's marked copy
        finally:
            browser.close()
    app.state.engine.dispose()
