"""Fixtures of the review service tests: a seeded store copied per test, clients per role."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings
from tests.api.service.seed import PASSWORD, SECRET, Seeded, make_media, seed_store

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The evidence files of the seeded events (made once)."""
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def template_store(
    tmp_path_factory: pytest.TempPathFactory, media: dict[str, str]
) -> tuple[Path, Seeded]:
    """A seeded SQLite file (made once) and what it holds."""
    path = tmp_path_factory.mktemp("service") / "template.db"
    seeded = seed_store(f"sqlite:///{path}", media)
    return path, seeded


@pytest.fixture
def backend_store(new_db_url: Callable[[], str], media: dict[str, str]) -> Seeded:
    """A freshly seeded store of the test's backend (SQLite file or PostgreSQL schema)."""
    return seed_store(new_db_url(), media)


@pytest.fixture
def store(template_store: tuple[Path, Seeded], tmp_path: Path) -> Seeded:
    """A fresh copy of the seeded store for one test."""
    path, seeded = template_store
    copy = tmp_path / "store.db"
    shutil.copy(path, copy)
    return Seeded(
        url=f"sqlite:///{copy}", own=seeded.own, other=seeded.other, clip_size=seeded.clip_size
    )


def make_settings(url: str, **overrides: object) -> Settings:
    """Production settings with a proper secret over the given store."""
    return Settings.model_validate(
        {"environment": "production", "secret_key": SECRET, "db": url, **overrides}
    )


@pytest.fixture
def app(store: Seeded) -> Iterator[FastAPI]:
    """The service over the test's store."""
    application = create_app(make_settings(store.url))
    yield application
    application.state.engine.dispose()


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = CSRF_INPUT.search(page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": token.group(1),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/")
    meta = CSRF_META.search(home.text)
    assert meta is not None
    return meta.group(1)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous client."""
    with TestClient(app) as c:
        yield c
