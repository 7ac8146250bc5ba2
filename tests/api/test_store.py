"""Tests of api/store.py on SQLite and PostgreSQL: idempotent writes, filters, atomic units."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.config import BranchConfig, SiteConfig
from api.db.models import Branch, Camera, CoverageGap, EventRecord, Run, Video
from api.db.session import make_engine, session_scope, upgrade
from api.store import EventFilter, RunStatus, Store, StoreError, VideoStatus
from rules.types import Event, EventStatus
from vision.config import CameraConfig, ZoneConfig, ZoneKind
from vision.config.camera import UniformSignature
from vision.roles import HIST_SIZE

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)


def find_video(store: Store, sha256: str, pipeline_version: str) -> Video | None:
    """The stored video of a content hash and pipeline version, if any."""
    return store.session.scalars(
        select(Video).where(Video.sha256 == sha256, Video.pipeline_version == pipeline_version)
    ).one_or_none()


def make_site(*branches: tuple[str, str, list[str]]) -> SiteConfig:
    """Site with ``(branch id, time zone, camera ids)`` branches."""
    return SiteConfig(
        branches=[
            BranchConfig(
                id=branch_id,
                name=f"{branch_id}支行",
                timezone=tz,
                cameras=[CameraConfig(id=cam, name=f"{cam}大堂") for cam in cameras],
            )
            for branch_id, tz, cameras in branches
        ]
    )


SITE = make_site(("b1", "Asia/Shanghai", ["cam1", "cam2"]), ("b2", "Asia/Urumqi", ["cam1"]))


def make_event(
    minute: int, item: str = "LOBBY_MANAGER_ABSENT", branch: str = "b1", camera: str = "cam1"
) -> Event:
    start = T0 + timedelta(minutes=minute)
    return Event(
        item=item,
        branch=branch,
        camera=camera,
        start=start,
        end=start + timedelta(minutes=7),
        rule_version="1",
        track_ids=(3, 8),
        roles=("guard", "customer"),
        zone="post",
        details={"absent_s": 420.0},
        evidence_ts=start + timedelta(minutes=1),
        box=(0.1, 0.2, 0.3, 0.4),
    )


def record(store: Store, sha: str, status: VideoStatus, **extra: Any) -> Video:
    return store.record_video(
        path=f"/exports/{sha}.mp4",
        sha256=sha * 8,
        size=1000,
        pipeline_version="p1",
        status=status,
        **extra,
    )


@pytest.fixture
def store(session: Session) -> Store:
    st = Store(session)
    st.sync_site(SITE)
    return st


def test_sync_site_upserts_branches_and_cameras(store: Store, session: Session) -> None:
    renamed = make_site(("b1", "Asia/Hong_Kong", ["cam1", "cam3"]))
    store.sync_site(renamed)
    store.sync_site(renamed)
    branches = {b.id: (b.name, b.timezone) for b in session.scalars(select(Branch))}
    assert branches == {"b1": ("b1支行", "Asia/Hong_Kong"), "b2": ("b2支行", "Asia/Urumqi")}
    cameras = session.execute(
        select(Camera.branch_id, Camera.camera_id).order_by(Camera.branch_id, Camera.camera_id)
    ).all()
    assert [tuple(c) for c in cameras] == [
        ("b1", "cam1"),
        ("b1", "cam2"),
        ("b1", "cam3"),
        ("b2", "cam1"),
    ]
    assert store.branch_timezones() == {
        "b1": ZoneInfo("Asia/Hong_Kong"),
        "b2": ZoneInfo("Asia/Urumqi"),
    }


def test_runs_start_and_finish(store: Store, session: Session) -> None:
    run_id = store.start_run("site.yaml", "p1")
    run = session.get(Run, run_id)
    assert run is not None and run.status == "running" and run.finished_at is None
    store.finish_run(run_id, RunStatus.DONE, {"videos": 3, "failed": 1})
    assert run.status == "done"
    assert run.stats == {"videos": 3, "failed": 1}
    assert run.finished_at is not None and run.finished_at >= run.started_at
    with pytest.raises(StoreError, match="no run with id 999999"):
        store.finish_run(999_999, RunStatus.FAILED, {})


def test_rescanning_a_video_creates_nothing_new(store: Store, session: Session) -> None:
    assert find_video(store, "a" * 64, "p1") is None
    first = record(store, "aaaaaaaa", VideoStatus.DONE, branch="b1", camera="cam1", start=T0)
    again = record(store, "aaaaaaaa", VideoStatus.DONE, branch="b1", camera="cam1", start=T0)
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(Video)) == 1
    found = find_video(store, "a" * 64, "p1")
    assert found is not None and found.id == first.id and found.start_ts == T0
    assert find_video(store, "a" * 64, "p2") is None


def test_new_pipeline_version_is_a_new_video(store: Store) -> None:
    first = record(store, "aaaaaaaa", VideoStatus.DONE)
    other = store.record_video(
        path="/x.mp4", sha256="a" * 64, size=1000, pipeline_version="p2", status=VideoStatus.DONE
    )
    assert other.id != first.id


def test_failed_video_keeps_its_error_until_a_success(store: Store) -> None:
    failed = record(store, "bbbbbbbb", VideoStatus.FAILED, error="truncated: moov atom missing")
    assert (failed.status, failed.error) == ("failed", "truncated: moov atom missing")
    done = record(store, "bbbbbbbb", VideoStatus.DONE, stats={"samples": 300})
    assert done.id == failed.id
    assert (done.status, done.error, done.stats) == ("done", None, {"samples": 300})


def test_a_failure_never_replaces_a_success(store: Store) -> None:
    done = record(store, "cccccccc", VideoStatus.DONE, timeline_path="/t.npz")
    again = record(store, "cccccccc", VideoStatus.FAILED, error="disk read error")
    assert again.id == done.id
    assert (again.status, again.error, again.timeline_path) == ("done", None, "/t.npz")


@pytest.mark.parametrize(
    ("status", "error", "expectation"),
    [
        (VideoStatus.FAILED, None, pytest.raises(ValueError, match="needs an error")),
        (VideoStatus.FAILED, "bad", does_not_raise()),
        (VideoStatus.PENDING, None, does_not_raise()),
    ],
)
def test_record_video_validates_failures(
    store: Store,
    status: VideoStatus,
    error: str | None,
    expectation: AbstractContextManager[object],
) -> None:
    with expectation:
        assert record(store, "dddddddd", status, error=error).status == status.value


def test_add_events_stores_all_fields(store: Store, session: Session) -> None:
    run_id = store.start_run("site.yaml", "p1")
    video = record(store, "aaaaaaaa", VideoStatus.DONE)
    event = make_event(0)
    evidence = {event.key: {"still": "/ev/1.jpg", "sha256": {"still": "ab" * 32}}}
    assert store.add_events([event], "yolo11n-pose@1", video.id, run_id, evidence) == 1
    session.expire_all()
    stored = session.scalars(select(EventRecord)).one()
    assert (stored.key, stored.item, stored.branch_id, stored.camera_id) == (
        event.key,
        "LOBBY_MANAGER_ABSENT",
        "b1",
        "cam1",
    )
    assert (stored.start_ts, stored.end_ts, stored.evidence_ts) == (
        event.start,
        event.end,
        event.evidence_ts,
    )
    assert stored.people == [{"track_id": 3, "role": "guard"}, {"track_id": 8, "role": "customer"}]
    assert stored.details == {"absent_s": 420.0}
    assert stored.evidence == evidence[event.key]
    assert stored.box == [0.1, 0.2, 0.3, 0.4]
    assert (stored.status, stored.rule_version, stored.detector_version) == (
        "pending",
        "1",
        "yolo11n-pose@1",
    )
    assert (stored.video_id, stored.run_id, stored.zone) == (video.id, run_id, "post")


def test_add_events_is_idempotent_and_keeps_reviews(store: Store, session: Session) -> None:
    events = [make_event(0), make_event(30)]
    assert store.add_events(events, "d1", None, None) == 2
    session.execute(
        update(EventRecord)
        .where(EventRecord.key == events[0].key)
        .values(status=EventStatus.CONFIRMED.value)
    )
    again = [make_event(0), make_event(30), make_event(60), make_event(60)]
    assert store.add_events(again, "d2", None, None) == 1
    session.expire_all()
    rows = session.execute(
        select(EventRecord.key, EventRecord.status, EventRecord.detector_version).order_by(
            EventRecord.start_ts
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        (events[0].key, "confirmed", "d1"),
        (events[1].key, "pending", "d1"),
        (make_event(60).key, "pending", "d2"),
    ]
    assert store.add_events([], "d1", None, None) == 0


def _seed_events(store: Store) -> list[Event]:
    events = [
        make_event(40, camera="cam2"),
        make_event(0),
        make_event(20, item="GUARD_POSTURE"),
        make_event(10, branch="b2"),
        make_event(60 * 24),
    ]
    store.add_events(events, "d1", None, None)
    return events


@pytest.mark.parametrize(
    ("filters", "minutes"),
    [
        (EventFilter(), [0, 10, 20, 40, 1440]),
        (EventFilter(branch="b1"), [0, 20, 40, 1440]),
        (EventFilter(branch="b1", camera="cam1"), [0, 20, 1440]),
        (EventFilter(item="GUARD_POSTURE"), [20]),
        (EventFilter(status=EventStatus.CONFIRMED), [10]),
        (EventFilter(status=EventStatus.PENDING), [0, 20, 40, 1440]),
        (EventFilter(since=T0 + timedelta(minutes=10)), [10, 20, 40, 1440]),
        (EventFilter(until=T0 + timedelta(minutes=20)), [0, 10]),
        (EventFilter(since=T0.astimezone(UTC), until=T0 + timedelta(days=1)), [0, 10, 20, 40]),
        (EventFilter(limit=2), [0, 10]),
        (EventFilter(limit=2, offset=2), [20, 40]),
        (EventFilter(offset=4), [1440]),
    ],
)
def test_list_events_filters_and_orders_by_start(
    store: Store, session: Session, filters: EventFilter, minutes: list[int]
) -> None:
    _seed_events(store)
    session.execute(
        update(EventRecord).where(EventRecord.branch_id == "b2").values(status="confirmed")
    )
    got = store.list_events(filters)
    assert [int((r.start_ts - T0).total_seconds() // 60) for r in got] == minutes


def test_list_events_loads_the_video(store: Store) -> None:
    video = record(store, "aaaaaaaa", VideoStatus.DONE)
    store.add_events([make_event(0)], "d1", video.id, None)
    (event,) = store.list_events(EventFilter())
    assert event.video is not None and event.video.path == "/exports/aaaaaaaa.mp4"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": datetime(2026, 11, 22)}, "needs a time zone"),
        ({"limit": 0}, "limit must be >= 1"),
        ({"offset": -1}, "offset must be >= 0"),
    ],
)
def test_event_filter_validates(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EventFilter(**kwargs)


def test_replace_coverage_gaps(store: Store, session: Session) -> None:
    hour = timedelta(hours=1)
    gaps = [(T0, T0 + timedelta(minutes=10)), (T0 + hour, T0 + timedelta(minutes=70))]
    assert store.replace_coverage_gaps("b1", "cam1", date(2026, 11, 22), gaps) == 2
    assert store.replace_coverage_gaps("b1", "cam2", "2026-11-22", gaps[:1]) == 1
    assert store.replace_coverage_gaps("b1", "cam1", date(2026, 11, 22), gaps[1:]) == 1
    assert store.replace_coverage_gaps("b1", "cam1", date(2026, 11, 23), gaps[:1]) == 1
    rows = session.execute(
        select(
            CoverageGap.camera_id, CoverageGap.day, CoverageGap.start_ts, CoverageGap.end_ts
        ).order_by(CoverageGap.camera_id, CoverageGap.day)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("cam1", "2026-11-22", T0 + hour, T0 + timedelta(minutes=70)),
        ("cam1", "2026-11-23", T0, T0 + timedelta(minutes=10)),
        ("cam2", "2026-11-22", T0, T0 + timedelta(minutes=10)),
    ]
    assert store.replace_coverage_gaps("b1", "cam1", "2026-11-22", []) == 0
    assert session.scalar(select(func.count()).select_from(CoverageGap)) == 2


@pytest.mark.parametrize(
    ("day", "gaps", "message"),
    [
        ("22.11.2026", [], "day must be YYYY-MM-DD"),
        ("2026-11-22", [(T0, T0)], "ends .* before it starts"),
        ("2026-11-22", [(T0.replace(tzinfo=None), T0)], "needs a time zone"),
    ],
)
def test_replace_coverage_gaps_rejects_bad_input(
    store: Store, day: str, gaps: list[tuple[datetime, datetime]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store.replace_coverage_gaps("b1", "cam1", day, gaps)


def test_unknown_event_keys(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.store.KEY_CHUNK", 2)
    stored = [make_event(m) for m in range(5)]
    store.add_events(stored, "d1", None, None)
    new = [make_event(m) for m in (100, 200)]
    keys = [e.key for e in stored + new]
    assert store.unknown_event_keys(keys) == {e.key for e in new}
    assert store.unknown_event_keys([]) == set()


def test_evidence_must_be_keyed_by_event(store: Store) -> None:
    with pytest.raises(ValueError, match="keyed by Event.key"):
        store.add_events([make_event(0)], "d1", None, None, {"still": {"path": "/a.jpg"}})
    assert store.list_events(EventFilter()) == []


@pytest.mark.parametrize(
    ("status", "expectation"),
    [
        ("done", does_not_raise()),
        (RunStatus.FAILED, does_not_raise()),
        ("finished", pytest.raises(ValueError, match="'finished' is not a valid RunStatus")),
    ],
)
def test_finish_run_status(
    store: Store, status: str, expectation: AbstractContextManager[object]
) -> None:
    run_id = store.start_run("site.yaml", "p1")
    with expectation:
        store.finish_run(run_id, status, {})
        run = store.session.get(Run, run_id)
        assert run is not None and run.status == str(status)


def test_failed_unit_rolls_back_only_itself(store: Store, session: Session) -> None:
    """Inside one connection: the failed unit's savepoint goes, earlier units stay."""
    session.commit()
    video = record(store, "aaaaaaaa", VideoStatus.DONE)
    store.add_events([make_event(0)], "d1", video.id, None)
    session.commit()
    with pytest.raises(IntegrityError):
        record(store, "eeeeeeee", VideoStatus.DONE)
        store.add_events([make_event(5, branch="unknown-branch")], "d1", None, None)
    session.rollback()
    assert find_video(store, "a" * 64, "p1") is not None
    assert find_video(store, "e" * 64, "p1") is None
    assert [e.key for e in store.list_events(EventFilter())] == [make_event(0).key]


def test_failed_transaction_keeps_what_was_committed(fresh_db_url: str) -> None:
    """Across real transactions: a unit that fails leaves earlier units untouched."""
    engine = make_engine(fresh_db_url)
    try:
        upgrade(engine)
        with session_scope(engine) as sess:
            store = Store(sess)
            store.sync_site(SITE)
            video = record(store, "aaaaaaaa", VideoStatus.DONE)
            store.add_events([make_event(0)], "d1", video.id, None)
        with pytest.raises(IntegrityError), session_scope(engine) as sess:
            store = Store(sess)
            record(store, "aaaaaaaa", VideoStatus.FAILED, error="re-read failed")
            record(store, "eeeeeeee", VideoStatus.DONE)
            store.add_events([make_event(5)], "d1", None, None)
            store.add_events([make_event(9, branch="unknown-branch")], "d1", None, None)
        with session_scope(engine) as sess:
            store = Store(sess)
            kept = find_video(store, "a" * 64, "p1")
            assert kept is not None and (kept.status, kept.error) == ("done", None)
            assert find_video(store, "e" * 64, "p1") is None
            assert [e.key for e in store.list_events(EventFilter())] == [make_event(0).key]
    finally:
        engine.dispose()


def test_sync_site_stores_the_items_each_branch_can_check_on_video(store: Store) -> None:
    """A screen zone makes SCREENS_OFF a video item; a calibrated uniform makes UNIFORM one;
    a rule switched off in the config is not."""
    screen = ZoneConfig(id="tv", kind=ZoneKind.SCREEN, polygon=[(0, 0), (0.2, 0), (0.2, 0.2)])
    uniform = UniformSignature(role="teller", hist=[1.0 / HIST_SIZE] * HIST_SIZE)
    site = SiteConfig(
        rules={"STAFF_PHONE_USE": {"enabled": False}},
        branches=[
            BranchConfig(id="b1", name="一", cameras=[CameraConfig(id="c", zones=[screen])]),
            BranchConfig(id="b2", name="二", cameras=[CameraConfig(id="c", uniforms=[uniform])]),
        ],
    )
    store.sync_site(site)
    video = store.branch_video_items()
    assert "SCREENS_OFF" in video["b1"] and "UNIFORM" not in video["b1"]
    assert "UNIFORM" in video["b2"] and "SCREENS_OFF" not in video["b2"]
    assert "STAFF_PHONE_USE" not in video["b1"] | video["b2"]
    assert "GUARD_POSTURE" in video["b1"] & video["b2"]
