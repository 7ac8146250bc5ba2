"""The notice pages of the UI: preview, the 生成 button, stored files, who may do what."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.auth import Role, add_user
from api.db.session import make_engine
from api.notices import PREVIEW_BANNER
from api.service.app import create_app
from api.service.routes import notices as notice_routes
from tests.api.service.conftest import login, make_settings
from tests.api.service.seed import PASSWORD

PAGE = "/notices/b1/2026-11-20"


@pytest.fixture
def client(store_url: str, tmp_path: Path) -> Iterator[TestClient]:
    engine = make_engine(store_url)
    with Session(engine) as db:
        add_user(db, "sup1", PASSWORD, Role.SUPERVISOR, ["b1"])
        add_user(db, "br1", PASSWORD, Role.BRANCH, ["b1"])
        add_user(db, "sup2", PASSWORD, Role.SUPERVISOR, ["b2"])
        db.commit()
    engine.dispose()
    app = create_app(make_settings(store_url))
    app.include_router(notice_routes.router)
    settings = notice_routes.NoticeSettings(dir=tmp_path / "notices")
    app.dependency_overrides[notice_routes.get_notice_settings] = lambda: settings
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def test_preview_page_and_generate(client: TestClient, tmp_path: Path) -> None:
    csrf = login(client, "sup1")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "<h1>整改通知书</h1>" in page.text and PREVIEW_BANNER not in page.text
    assert 'href="/notices/notice.css"' in page.text
    preview = client.get(PAGE, params={"preview": "true"})
    assert PREVIEW_BANNER in preview.text and "客户视线内杂物（待审核）" in preview.text
    made = client.post(
        PAGE + "/generate", data={"csrf_token": csrf, "preview": "false"}, follow_redirects=False
    )
    assert made.status_code == 303 and made.headers["location"] == PAGE
    again = client.get(PAGE)
    assert "第1版" in again.text and "/notices/files/1/pdf" in again.text
    pdf = client.get("/notices/files/1/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (tmp_path / "notices" / "b1" / "2026-11-20" / "v1").is_dir()


def test_generate_needs_csrf(client: TestClient) -> None:
    login(client, "sup1")
    assert client.post(PAGE + "/generate", data={"preview": "false"}).status_code == 403


@pytest.mark.parametrize(("user", "code"), [("br1", 403), ("sup2", 404)])
def test_only_reviewers_of_the_branch_generate(client: TestClient, user: str, code: int) -> None:
    csrf = login(client, user)
    response = client.post(PAGE + "/generate", data={"csrf_token": csrf})
    assert response.status_code == code


def test_other_branches_notices_are_hidden(client: TestClient) -> None:
    login(client, "sup2")
    assert client.get(PAGE).status_code == 404
