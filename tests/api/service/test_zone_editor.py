"""The zone editor: an admin draws a zone on a camera's reference frame in real Chromium and
saves it into the commented site configuration, which ``branchwatch check`` then accepts with
every original comment still there. Non-admins, bad zones and a missing config are refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from api.config import load_config
from api.scan.driver import references_root
from api.service.app import create_app
from tests.api.service.browser import CHROMIUM, CHROMIUM_ARGS, served
from tests.api.service.conftest import login, make_settings
from tests.api.service.seed import PASSWORD, Seeded
from vision.reference import ReferenceStore

EXAMPLE = Path(__file__).parents[3] / "api" / "config" / "example.yaml"
URL = "/cameras/chengdong/lobby/zones"


def _comments(text: str) -> list[str]:
    return [line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line]


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the commented example configuration and a work folder with a clean still."""
    config = tmp_path / "branchwatch.yaml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    work = tmp_path / "work"
    still = np.full((360, 640, 3), 180, np.uint8)
    still[200:, :] = (90, 110, 130)  # floor
    ReferenceStore(references_root(work)).save("chengdong", "lobby", still, "opening")
    return config, work


@pytest.fixture
def editor_app(store: Seeded, site: tuple[Path, Path]) -> Iterator[FastAPI]:
    config, work = site
    app = create_app(make_settings(store.url, config=str(config), work_dir=str(work)))
    yield app
    app.state.engine.dispose()


def test_admin_draws_and_saves_a_zone_in_chromium(
    editor_app: FastAPI, site: tuple[Path, Path], tmp_path: Path
) -> None:
    config, _ = site
    original = config.read_text(encoding="utf-8")
    before = {z.id for z in load_config(config).branch("chengdong").camera("lobby").zones}
    with served(editor_app) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page.goto(f"{server}{URL}")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}{URL}")
            page.wait_for_function("() => document.getElementById('reference').naturalWidth > 0")
            assert page.locator("#overlay polygon.zone").count() == len(before)
            overlay = page.locator("#overlay")
            box = overlay.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50
            for fx, fy in ((0.6, 0.6), (0.9, 0.6), (0.9, 0.9), (0.6, 0.9)):
                overlay.click(position={"x": fx * box["width"], "y": fy * box["height"]})
            page.fill("#zone-id", "atm-area")
            page.select_option("#zone-kind", "self_service")
            page.fill("#zone-name", "自助区")
            page.click("#finish-zone")
            message = page.locator("#zone-message").inner_text()
            assert page.locator("#overlay polygon.zone").count() == len(before) + 1, message
            page.click("#save-zones")
            page.wait_for_function(
                "() => document.getElementById('zone-message').textContent.includes('已保存')"
            )
            page.screenshot(path=str(tmp_path / "zones.png"), full_page=True)
        finally:
            browser.close()

    saved = config.read_text(encoding="utf-8")
    assert _comments(original) == _comments(saved)
    check = subprocess.run(
        [sys.executable, "-m", "api.cli", "check", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    zones = {z.id: z for z in load_config(config).branch("chengdong").camera("lobby").zones}
    assert set(zones) == before | {"atm-area"}
    atm = zones["atm-area"]
    assert (atm.kind.value, atm.name) == ("self_service", "自助区")
    xs, ys = zip(*atm.polygon, strict=True)
    assert min(xs) == pytest.approx(0.6, abs=0.01) and max(ys) == pytest.approx(0.9, abs=0.01)


def test_the_editor_refuses_what_the_config_would_refuse(
    editor_app: FastAPI, site: tuple[Path, Path]
) -> None:
    config, _ = site
    original = config.read_text(encoding="utf-8")
    square = [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.2]]
    with TestClient(editor_app) as client:
        csrf = login(client, "sup1")
        assert client.get(URL).status_code == 403
        assert client.get("/cameras/chengdong/lobby/reference.png").status_code == 403
    with TestClient(editor_app) as client:
        csrf = login(client, "admin")
        headers = {"X-CSRF-Token": csrf, "X-Requested-With": "fetch"}  # as zones.js sends
        page = client.get(URL)
        assert page.status_code == 200 and "区域编辑" in page.text
        png = client.get("/cameras/chengdong/lobby/reference.png")
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
        bad = [
            {"id": "w1", "kind": "counter_window", "polygon": square},  # no window_id
            {"id": "flat", "kind": "lobby", "polygon": [[0, 0], [0.5, 0.5], [1, 1]]},
            {"id": "dup", "kind": "lobby", "polygon": square},
        ]
        for zones, words in (
            (bad[:1], "window_id"),
            (bad[1:2], "no area"),
            ([bad[2], bad[2]], "used twice"),
        ):
            r = client.post(URL, json={"zones": zones}, headers=headers)
            assert r.status_code == 422 and words in r.text, r.text
        assert client.post(URL, json={"zones": []}).status_code == 403  # no CSRF token
        preview = client.post(f"{URL}/preview", json={"zones": bad[2:]}, headers=headers)
        assert preview.status_code == 200 and preview.json()["night"] is None
    assert config.read_text(encoding="utf-8") == original


def test_without_a_configured_site_the_editor_says_how_to_turn_it_on(app: FastAPI) -> None:
    with TestClient(app) as client:
        login(client, "admin")
        r = client.get(URL)
        assert r.status_code == 404 and "BRANCHWATCH_CONFIG" in r.text
