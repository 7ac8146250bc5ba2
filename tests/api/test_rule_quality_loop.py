"""The review loop end to end: 20 stored events of one item, 15 dismissed by a supervisor; the
规则质量 page and `branchwatch rules quality` show the precision and a suggested parameter
change whose effect on those 20 events comes from re-running the rule over the stored timeline.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.auth import Role, add_user
from api.cli.main import app
from api.config import load_config
from api.db.models import EventRecord
from api.db.session import make_engine, upgrade
from api.service.app import create_app
from api.store import Store, VideoStatus
from rules.engine import run_rules
from tests.api.service.conftest import login, make_settings
from tests.rules.factories import OPEN, Person, Scene, make_context, make_timeline
from vision.types import Role as PersonRole

CONFIG = """
version: 1
branches:
  - id: b1
    name: 城东支行
    hours: {open: {start: "09:00", end: "17:00"}, holidays: none}
    cameras:
      - id: cam1
        zones:
          - {id: post, kind: lobby_manager_post, polygon: [[0, 0], [0.5, 0], [0.5, 0.5]]}
          - {id: hall, kind: lobby, polygon: [[0, 0.5], [1, 0.5], [1, 1]]}
"""
SHORT = 15  # absences of 320–390 s: the lobby manager hands over to a colleague
LONG = 5  # absences of 1200 s


def _scene() -> Scene:
    people, t = [], 0.0
    for k in range(SHORT + LONG):
        away = 320.0 + 5 * k if k < SHORT else 1200.0
        people.append(Person(1, PersonRole.LOBBY_MANAGER, t, t + 100.0, ("post",)))
        t += 100.0 + away
    people.append(Person(1, PersonRole.LOBBY_MANAGER, t, 28_800.0, ("post",)))
    return Scene(duration_s=28_800.0, interval_s=2.0, people=people)


@pytest.fixture
def reviewed(tmp_path: Path) -> tuple[str, Path]:
    """A store with the camera's timeline, the rule's 20 events, 15 of them dismissed."""
    config_path = tmp_path / "site.yaml"
    config_path.write_text(CONFIG, encoding="utf-8")
    site = load_config(config_path)
    branch = site.branch("b1")
    camera = branch.camera("cam1")
    scene = _scene()
    timeline = make_timeline(scene)
    timeline_path = tmp_path / "cam1.npz"
    timeline.save(timeline_path)
    events = [
        e
        for e in run_rules(timeline, make_context(scene), site.camera_rules(branch, camera))
        if e.item == "LOBBY_MANAGER_ABSENT"
    ]
    assert len(events) == SHORT + LONG
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as db:
        store = Store(db)
        store.sync_site(site)
        video = store.record_video(
            path=str(tmp_path / "cam1.mp4"),
            sha256="0" * 64,
            size=1,
            pipeline_version="test",
            status=VideoStatus.DONE,
            branch="b1",
            camera="cam1",
            start=datetime.fromtimestamp(OPEN, UTC),
            end=datetime.fromtimestamp(OPEN + 28_800, UTC),
            timeline_path=str(timeline_path),
        )
        store.add_events(events, "test", video.id, None)
        add_user(db, "sup1", "correct horse battery", Role.SUPERVISOR, ["b1"])
        db.commit()
    engine.dispose()
    return url, config_path


def test_dismissals_lead_to_a_suggestion_with_its_effect(
    reviewed: tuple[str, Path], tmp_path: Path
) -> None:
    url, config_path = reviewed
    service = create_app(make_settings(url, config=config_path, evidence_dir=tmp_path / "ev"))
    with TestClient(service) as client:
        csrf = login(client, "sup1", "correct horse battery")
        with Session(make_engine(url)) as db:
            rows = db.scalars(select(EventRecord).order_by(EventRecord.start_ts)).all()
            ids = [(r.id, (r.end_ts - r.start_ts).total_seconds()) for r in rows]
        assert len(ids) == SHORT + LONG
        for event_id, length in ids:
            body = (
                {"action": "dismiss", "reason": "轮岗交接"}
                if length < 300
                else {"action": "confirm"}
            )
            response = client.post(
                f"/api/events/{event_id}/review", json=body, headers={"X-CSRF-Token": csrf}
            )
            assert response.status_code == 200, response.text
        page = client.get("/quality").text
    service.state.engine.dispose()
    assert "25% (11%–47%)" in page and "轮岗交接 ×15" in page
    assert "grace_s 300 → 450:排除的 15 条中 15 条不再报告,确认的 5 条全部保留" in page

    result = CliRunner().invoke(
        app, ["rules", "quality", "--json", "--db", url, "--config", str(config_path)]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    (row,) = body["rules"]
    assert (row["confirmed"], row["dismissed"], row["precision"]) == (5, 15, 0.25)
    (advice,) = body["suggestions"]
    assert advice["parameter"] == "grace_s"
    assert advice["current"] == {
        "value": 300.0,
        "confirmed_kept": 5,
        "confirmed_lost": 0,
        "dismissed_kept": 15,
        "dismissed_dropped": 0,
    }
    assert advice["suggested"]["value"] == 450.0
    assert advice["suggested"]["dismissed_dropped"] == 15
    assert advice["suggested"]["confirmed_lost"] == 0
    table = CliRunner().invoke(app, ["rules", "quality", "--db", url, "--config", str(config_path)])
    assert "建议 大堂经理不在岗 b1/cam1:grace_s 300 → 450" in table.stdout
