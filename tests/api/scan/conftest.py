"""Short generated footage of the demo branch, its configuration, and helpers of the run tests.

Two cameras × 60 s in 30 s files at 640×360 (five files, the counter camera has a hole), a
corrupt export that discovery accepts by name, and rule thresholds scaled to one minute so the
footage yields events. Rendered once per test session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from api.config import SiteConfig, load_config
from api.db.models import EventRecord, ScanUnit, Video
from api.db.session import make_engine, session_scope
from api.demo import DEMO_START, demo_config

DURATION_S = 60
SEGMENT_S = 30.0
CORRUPT_NAME = "ch01_20261120093100_20261120093130.mp4"
"""A lobby file after closing time: its failure must not change any finding."""


@dataclass(frozen=True)
class Footage:
    """Rendered footage and the configuration that scans it."""

    folder: Path
    config_path: Path
    site: SiteConfig
    videos: int
    """Decodable export files in ``folder`` (the corrupt one not counted)."""


@dataclass(frozen=True)
class StoreContent:
    """What a scan left in the store."""

    event_keys: list[str]
    video_count: int
    units: dict[str, tuple[str, int, str | None, bool]]
    """By file name: state, attempts, reason, bad_input."""


def read_store(db_url: str) -> StoreContent:
    """Events, videos and units of a store (duplicates kept, to be counted)."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            keys = sorted(session.scalars(select(EventRecord.key)))
            videos = len(session.scalars(select(Video.id)).all())
            units = {
                Path(u.path).name: (u.state, u.attempts, u.reason, u.bad_input)
                for u in session.scalars(select(ScanUnit))
            }
    finally:
        engine.dispose()
    return StoreContent(keys, videos, units)


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Footage:
    """Two cameras of the demo branch, one minute each, plus a corrupt export."""
    from vision.synth.demo import demo_scenario
    from vision.synth.render import render_camera

    root = tmp_path_factory.mktemp("runs-footage")
    folder = root / "footage"
    scenario = demo_scenario(DEMO_START, DURATION_S, width=640, height=360)
    videos = sum(
        len(render_camera(c.script, folder, segment_s=SEGMENT_S).videos) for c in scenario.cameras
    )
    (folder / CORRUPT_NAME).write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000))
    k = DURATION_S / 600
    config = demo_config(DURATION_S, [c.config for c in scenario.cameras])
    config["rules"] = {
        "LOBBY_MANAGER_ABSENT": {"grace_s": 120.0 * k},
        "GUARD_NOT_PATROLLING": {"min_duration_s": 300.0 * k, "require_customers": False},
        "CLUTTER_CUSTOMER_VIEW": {"min_duration_s": 120.0 * k},
        "COUNTER_CROWDING": {"min_duration_s": 5.0},
        "WINDOW_UNATTENDED": {"min_duration_s": 60.0 * k},
        "MISSING_FOOTAGE": {"min_gap_s": 2.0},
    }
    config_path = root / "branchwatch.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return Footage(folder, config_path, load_config(config_path), videos)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """An empty schema of its own on the test PostgreSQL server (see tests/conftest.py)."""
    schemas = request.getfixturevalue("_pg_schemas")
    url: str = schemas.new()
    return url


@pytest.fixture
def fast_ray_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Ray's agents from timing out on this loaded machine.

    The venv carries ``rfc3987-syntax`` (an optional extra of jsonschema) whose import builds an
    Earley parser; Ray imports jsonschema in every agent, and under load the dashboard agent
    then misses the raylet's fixed 15 s start deadline (ray-project/ray#65983). jsonschema
    imports it inside ``suppress(ImportError)``, so a shadowing package that raises
    ImportError only drops an IRI format check nothing here uses.
    """
    shim = tmp_path / "shim" / "rfc3987_syntax"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('rfc3987_syntax shadowed in tests')\n")
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(shim.parent), path) if p))
