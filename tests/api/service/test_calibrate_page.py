"""The ``branchwatch calibrate`` page in real headless Chromium: the generated lobby's first
frame with the real pose model's people; a click on the lobby manager stores the uniform."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from api.calibration import CalibrationSession
from api.config import load_config
from api.service.calibrate_page import calibration_app
from tests.api.calibration_scene import COMMENT, LobbyCalibration, lobby_calibration
from tests.api.service.browser import CHROMIUM, CHROMIUM_ARGS, served

TOKEN = "calibration-test-token"


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[tuple[str, LobbyCalibration, CalibrationSession]]:
    scene = lobby_calibration(tmp_path)
    site = load_config(scene.config)
    branch = site.branch("demo")
    session = CalibrationSession.open(
        scene.config, site, branch, branch.camera("lobby"), scene.image
    )
    with served(calibration_app(session, TOKEN)) as url:
        yield url, scene, session


def test_click_on_a_person_stores_the_uniform_in_chromium(
    page_server: tuple[str, LobbyCalibration, CalibrationSession],
) -> None:
    url, scene, session = page_server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/?token={TOKEN}")
        assert page.locator("h1").inner_text() == "示例支行 · " + (
            session.camera.name or session.camera.id
        )
        assert page.locator("g.person").count() == len(session.people) == scene.people
        page.wait_for_function(
            "() => { const i = document.querySelector('#frame image');"
            " return i && i.getBBox().width > 0; }"
        )
        page.get_by_label("大堂经理").check()
        box = page.locator("svg#frame").bounding_box()
        assert box is not None
        scale = box["width"] / scene.image.shape[1]

        def click(x: float, y: float) -> None:
            page.mouse.click(box["x"] + x * scale, box["y"] + y * scale)

        click(*scene.manager_point)
        page.wait_for_function(
            "() => document.getElementById('status').textContent.startsWith('已保存')"
        )
        assert "已保存大堂经理制服签名（本摄像头共 1 个）" in page.locator("#status").inner_text()
        assert page.locator("#stored").inner_text() == "1"

        click(*scene.empty_point)
        page.wait_for_function(
            "() => document.getElementById('status').classList.contains('error')"
        )
        assert page.locator("#status").inner_text() == "点击位置没有检测到人员，请点击人员框内"
        browser.close()

    uniforms = load_config(scene.config).branch("demo").camera("lobby").uniforms
    assert [u.role for u in uniforms] == ["lobby_manager"]
    assert scene.config.read_text(encoding="utf-8").startswith(COMMENT)


def test_requests_without_the_token_are_refused(
    page_server: tuple[str, LobbyCalibration, CalibrationSession],
) -> None:
    url, scene, _ = page_server
    x, y = scene.manager_point
    assert httpx.get(f"{url}/").status_code == 403
    assert httpx.get(f"{url}/frame.jpg?token=wrong").status_code == 403
    refused = httpx.post(f"{url}/signatures", json={"x": x, "y": y, "role": "guard"})
    assert refused.status_code == 403
    frame = httpx.get(f"{url}/frame.jpg?token={TOKEN}")
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"
    bad_role = httpx.post(
        f"{url}/signatures",
        json={"x": x, "y": y, "role": "customer"},
        headers={"X-Calibrate-Token": TOKEN},
    )
    assert bad_role.status_code == 422
    assert load_config(scene.config).branch("demo").camera("lobby").uniforms == []
