"""Fixtures of the notice tests: a seeded store copied per test, notices rendered once."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from api.db.session import make_engine, session_scope
from api.notices import GeneratedNotice, NoticePolicy, generate_notice
from tests.api.notices.seed import DAY, Seeded, seed_store

ISSUED = date(2026, 11, 23)
ISSUER = "示例银行城东分行运营管理部"


@dataclass(frozen=True)
class Rendered:
    """A generated notice with its PDF as text (one entry per page) and its store."""

    notice: GeneratedNotice
    pages: list[str]
    url: str


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The seeded SQLite file (made once); copy it before writing (see ``store``)."""
    folder = tmp_path_factory.mktemp("notices")
    return seed_store(f"sqlite:///{folder / 'template.db'}", folder / "media")


def copy_store(template: Seeded, folder: Path) -> str:
    """A copy of the seeded store in ``folder``; returns its URL."""
    source = Path(template.url.removeprefix("sqlite:///"))
    target = folder / "store.db"
    shutil.copy(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def store_url(template_store: Seeded, tmp_path: Path) -> str:
    """A fresh copy of the seeded store for one test."""
    return copy_store(template_store, tmp_path)


def pdf_pages(path: Path) -> list[str]:
    """The text of each page of a PDF (pdftotext, layout kept)."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [page for page in text.split("\f") if page.strip()]


def _render(template: Seeded, folder: Path, preview: bool) -> Rendered:
    url = copy_store(template, folder)
    engine = make_engine(url)
    with session_scope(engine) as session:
        made = generate_notice(
            session,
            "b1",
            DAY,
            folder / "out",
            policy=NoticePolicy(issuer=ISSUER),
            preview=preview,
            issued=ISSUED,
        )
    engine.dispose()
    return Rendered(notice=made, pages=pdf_pages(made.paths["pdf"]), url=url)


@pytest.fixture(scope="session")
def final_notice(template_store: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The confirmed-only notice of b1 for the seeded day, in every format."""
    return _render(template_store, tmp_path_factory.mktemp("final"), preview=False)


@pytest.fixture(scope="session")
def preview_notice(template_store: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The preview (pending events counted) of the same notice."""
    return _render(template_store, tmp_path_factory.mktemp("preview"), preview=True)
