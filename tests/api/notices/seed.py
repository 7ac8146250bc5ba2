"""A store for notice, chart and report tests: two branches, reviewed events, real stills.

Branch ``b1`` (城东支行) on 2026-11-20, scheme ``psbc`` (1 point per video item, 200 元 per
point, 100 元 per occurrence for the money-only items):

======  ==========================  ======  =========  =====================================
key     item                        camera  status     counts
======  ==========================  ======  =========  =====================================
s1      STAFF_SLEEPING              c2      confirmed  1 point, 200 元
g1      GUARD_POSTURE               c1      confirmed  1 point, 200 元
s2      STAFF_SLEEPING              c2      confirmed  1 point, 200 元 (same day: no repeat)
k1      CLUTTER_CUSTOMER_VIEW       c1      pending    preview only: 0 points, 100 元
l1      LOBBY_MANAGER_ABSENT        c1      dismissed  never
======  ==========================  ======  =========  =====================================

The confirmed events were confirmed by 张三 (``zhangsan``); ``g1`` was relabelled by 李四 (``lisi``)
before 张三 confirmed it. Confirmed totals: 3 points, 600 元, score 97. Branch ``b2`` has one
confirmed GUARD_POSTURE (score 99), so ``b1`` ranks 2nd of 2. ``b1`` also has one confirmed
STAFF_PHONE_USE on 2026-11-13 (another item: no repeat), for trends over days and weeks.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from sqlalchemy import select, update

from api.db.auth_models import User
from api.db.models import Branch, Camera, EventRecord, Review
from api.db.session import make_engine, session_scope, upgrade
from api.store import Store
from rules.types import Event, EventStatus
from vision.evidence import Overlay, draw_overlay, write_jpeg

TZ = ZoneInfo("Asia/Shanghai")
DAY = "2026-11-20"
CONFIRMED_POINTS = 3.0
CONFIRMED_MONEY = 600.0
PREVIEW_MONEY = 700.0


@dataclass(frozen=True, slots=True)
class Seeded:
    """What :func:`seed_store` wrote."""

    url: str
    stills: dict[str, Path]


def asset(name: str) -> Path:
    """An ultralytics asset photo (without importing ultralytics)."""
    spec = importlib.util.find_spec("ultralytics")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "assets" / name


def make_still(path: Path, photo: str, title: str, box: tuple[float, float, float, float]) -> str:
    """Draw an evidence still on an asset photo; returns its sha256."""
    image = cv2.imread(str(asset(photo)))
    assert image is not None
    overlay = Overlay(
        zones=[("柜台", [(0.05, 0.5), (0.95, 0.5), (0.95, 0.98), (0.05, 0.98)])],
        boxes=np.array([box], np.float32),
        labels=["柜员 #3"],
        highlight=box,
        title=title,
    )
    write_jpeg(path, draw_overlay(np.asarray(image, np.uint8), overlay))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _at(day: int, hh: int, mm: int) -> datetime:
    return datetime(2026, 11, day, hh, mm, 5, tzinfo=TZ)


SPECS = (
    # key, branch, item, camera, start, minutes, status, box
    (
        "s1",
        "b1",
        "STAFF_SLEEPING",
        "c2",
        _at(20, 9, 41),
        4,
        EventStatus.CONFIRMED,
        (0.30, 0.25, 0.55, 0.80),
    ),
    (
        "g1",
        "b1",
        "GUARD_POSTURE",
        "c1",
        _at(20, 10, 2),
        2,
        EventStatus.CONFIRMED,
        (0.05, 0.20, 0.30, 0.95),
    ),
    (
        "k1",
        "b1",
        "CLUTTER_CUSTOMER_VIEW",
        "c1",
        _at(20, 11, 0),
        10,
        EventStatus.PENDING,
        (0.60, 0.55, 0.75, 0.70),
    ),
    (
        "s2",
        "b1",
        "STAFF_SLEEPING",
        "c2",
        _at(20, 14, 10),
        5,
        EventStatus.CONFIRMED,
        (0.35, 0.30, 0.60, 0.85),
    ),
    ("l1", "b1", "LOBBY_MANAGER_ABSENT", "c1", _at(20, 15, 0), 6, EventStatus.DISMISSED, None),
    (
        "w1",
        "b1",
        "STAFF_PHONE_USE",
        "c2",
        _at(13, 10, 0),
        4,
        EventStatus.CONFIRMED,
        (0.32, 0.28, 0.57, 0.82),
    ),
    (
        "o1",
        "b2",
        "GUARD_POSTURE",
        "c1",
        _at(20, 10, 30),
        2,
        EventStatus.CONFIRMED,
        (0.10, 0.20, 0.30, 0.90),
    ),
)


def seed_store(url: str, media: Path) -> Seeded:
    """Migrate a database at ``url`` and write the branches, cameras and events above."""
    engine = make_engine(url)
    upgrade(engine)
    stills: dict[str, Path] = {}
    with session_scope(engine) as session:
        session.add_all(
            [
                Branch(id="b1", name="城东支行", timezone="Asia/Shanghai"),
                Branch(id="b2", name="城西支行", timezone="Asia/Shanghai"),
            ]
        )
        session.flush()
        session.add_all(
            [
                Camera(branch_id="b1", camera_id="c1", name="1号机 营业大厅"),
                Camera(branch_id="b1", camera_id="c2", name="2号机 柜台"),
                Camera(branch_id="b2", camera_id="c1", name="1号机 营业大厅"),
            ]
        )
        store = Store(session)
        status_of: dict[str, tuple[str, EventStatus]] = {}
        for name, branch, item, camera, start, minutes, status, box in SPECS:
            event = Event(
                item=item,
                branch=branch,
                camera=camera,
                start=start.astimezone(UTC),
                end=(start + timedelta(minutes=minutes)).astimezone(UTC),
                rule_version="1",
                track_ids=(3,),
                roles=("teller",),
                zone="counter",
                details={"observed_s": minutes * 60.0},
                evidence_ts=(start + timedelta(minutes=1)).astimezone(UTC),
                box=box,
            )
            evidence: dict[str, str] = {}
            if box is not None:
                path = media / name / "still.jpg"
                photo = "zidane.jpg" if camera == "c2" else "bus.jpg"
                stamp = (start + timedelta(minutes=1)).astimezone(TZ)
                sha = make_still(path, photo, f"{item} {camera} {stamp:%H:%M:%S}", box)
                evidence = {"still": str(path), "still_sha256": sha}
                stills[name] = path
            store.add_events(
                [event], "yolo11n-pose@test", None, None, evidence={event.key: evidence}
            )
            status_of[event.key] = (name, status)
        session.add_all(
            [
                User(username=u, display_name=n, password_hash="-", role="supervisor")
                for u, n in (("zhangsan", "张三"), ("lisi", "李四"))
            ]
        )
        for key, (name, status) in status_of.items():
            session.execute(
                update(EventRecord).where(EventRecord.key == key).values(status=status.value)
            )
            event_id = session.scalars(select(EventRecord.id).where(EventRecord.key == key)).one()
            decisions = [("lisi", "relabel", "pending")] if name == "g1" else []
            if status is not EventStatus.PENDING:
                action = "confirm" if status is EventStatus.CONFIRMED else "dismiss"
                decisions.append(("zhangsan", action, status.value))
            before = "pending"
            for reviewer, action, after in decisions:
                session.add(
                    Review(
                        event_id=event_id,
                        reviewer=reviewer,
                        action=action,
                        before_status=before,
                        after_status=after,
                    )
                )
                before = after
    engine.dispose()
    return Seeded(url=url, stills=stills)
