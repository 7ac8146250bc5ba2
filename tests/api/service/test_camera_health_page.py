"""The camera health page lists each camera per day with footage: fine, or its findings with
their measures and the zone-based items they withheld; branch scoping applies."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.db.models import EventRecord, Video
from tests.api.service.conftest import login
from tests.api.service.seed import START, Seeded

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _add(url: str, branch: str, item: str, start: datetime, details: dict[str, object]) -> None:
    engine = create_engine(url)
    with Session(engine) as db:
        db.add(
            EventRecord(
                key=f"{branch}-{item}-{start.timestamp()}",
                item=item,
                branch_id=branch,
                camera_id="c1",
                start_ts=start,
                end_ts=start + timedelta(minutes=10),
                details=details,
                rule_version="1",
                detector_version="test",
            )
        )
        db.commit()
    engine.dispose()


def test_health_page_shows_findings_and_fine_cameras(app: FastAPI, store: Seeded) -> None:
    _add(
        store.url,
        "b1",
        "CAMERA_MOVED",
        START + timedelta(minutes=1),
        {"shift_pct": 5.3, "zones_fit": False, "withheld_items": ["LOBBY_MANAGER_ABSENT"]},
    )
    _add(store.url, "b2", "CAMERA_BLACK", START, {"black": True, "mean_luma": 0.0})
    engine = create_engine(store.url)
    with Session(engine) as db:  # b1's camera had footage the next day, and nothing wrong
        db.add(
            Video(
                path="next-day.mp4",
                sha256="1" * 64,
                size=1,
                branch_id="b1",
                camera_id="c1",
                start_ts=START + timedelta(days=1),
                end_ts=START + timedelta(days=1, hours=1),
                status="done",
                pipeline_version="test",
            )
        )
        db.commit()
    engine.dispose()
    with TestClient(app) as client:
        login(client, "sup1")
        page = client.get("/cameras/health")
        assert page.status_code == 200
        text = page.text
        assert "监控画面移位" in text and "画面偏移（占画面宽度%）：5.3" in text
        assert "大堂经理不在岗" in text  # the withheld item, by name
        assert "监控画面黑屏" not in text  # b2 is not sup1's branch
        next_day = (START + timedelta(days=1)).astimezone(SHANGHAI).date().isoformat()
        assert f'<tr class="ok"><td>{next_day}</td><td>b1</td><td>大堂</td><td>正常</td>' in text
    with TestClient(app) as client:
        login(client, "admin")
        text = client.get("/cameras/health").text
        assert "监控画面黑屏" in text and "监控画面移位" in text
        assert text.count('class="fault"') == 2
