"""Fixtures of the rectification loop: the notice store with four accounts and a final notice."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy.orm import Session

from api.auth import Role, add_user
from api.db.session import make_engine, session_scope
from api.notices import generate_notice
from api.notices.lifecycle import RectificationSettings
from api.notify.outbox import NotifySettings
from api.service.app import create_app
from api.service.routes import notices as notice_routes
from api.service.routes import rectification as rect_routes
from tests.api.notices.conftest import ISSUED, copy_store
from tests.api.notices.seed import Seeded, seed_store
from tests.api.service.conftest import make_settings
from tests.api.service.seed import PASSWORD

PERIOD = "2026-11-20"
CAMERA_MAKE = "SecretCam-9000"


@dataclass(frozen=True)
class Loop:
    """A store with a generated final notice of b1 and where files go."""

    url: str
    notice_id: int
    event_ids: list[int]
    photo_dir: Path


@pytest.fixture(scope="session")
def loop_template(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The notice tests' seeded store (made once; copied per test)."""
    folder = tmp_path_factory.mktemp("loop")
    return seed_store(f"sqlite:///{folder / 'template.db'}", folder / "media")


@pytest.fixture
def loop(loop_template: Seeded, tmp_path: Path) -> Loop:
    """The notice store plus accounts sup1, sup2, br1, br2 and a final b1 notice (not issued)."""
    store_url = copy_store(loop_template, tmp_path)
    engine = make_engine(store_url)
    with Session(engine) as db:
        add_user(db, "sup1", PASSWORD, Role.SUPERVISOR, ["b1"], display_name="王督导")
        add_user(db, "sup2", PASSWORD, Role.SUPERVISOR, ["b2"], display_name="李督导")
        add_user(db, "br1", PASSWORD, Role.BRANCH, ["b1"], display_name="城东网点")
        add_user(db, "br2", PASSWORD, Role.BRANCH, ["b2"], display_name="城西网点")
        db.commit()
    with session_scope(engine) as db:
        made = generate_notice(db, "b1", PERIOD, tmp_path / "notices", issued=ISSUED)
    engine.dispose()
    return Loop(
        url=store_url,
        notice_id=made.notice_id,
        event_ids=[line.event_id for line in made.content.lines],
        photo_dir=tmp_path / "photos",
    )


def loop_app(loop: Loop, tmp_path: Path) -> FastAPI:
    """The service over the loop's store, notices and photos in ``tmp_path``, no dispatcher."""
    app = create_app(make_settings(loop.url), NotifySettings(dispatch=False))
    notices = notice_routes.NoticeSettings(dir=tmp_path / "notices")
    rect = RectificationSettings(photo_dir=loop.photo_dir)
    app.dependency_overrides[notice_routes.get_notice_settings] = lambda: notices
    app.dependency_overrides[rect_routes.get_rectification_settings] = lambda: rect
    return app


@pytest.fixture
def app(loop: Loop, tmp_path: Path) -> Iterator[FastAPI]:
    """The service of the loop tests."""
    application = loop_app(loop, tmp_path)
    yield application
    application.state.engine.dispose()


def photo_with_metadata(path: Path) -> Path:
    """A JPEG whose EXIF names a camera make (must not survive the upload)."""
    image = Image.new("RGB", (640, 480), (40, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = CAMERA_MAKE
    exif[0x010E] = "GPS 31.2N 121.5E"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=90)
    path.write_bytes(buffer.getvalue())
    return path
