"""``branchwatch retention apply``: exactly the expired, unheld files go; events and hashes stay."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli.main import app
from api.db.auth_models import AuditLog
from api.db.loop_models import Appeal, NoticeCase
from api.db.models import Branch, EventRecord, Notice, Review, Video, utcnow
from api.db.session import make_engine, upgrade

runner = CliRunner()


@dataclass(frozen=True)
class Store:
    url: str
    files: dict[str, Path]  # name → file
    expected: set[str]  # names retention must delete


def _file(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    path.write_bytes(bytes([len(name) % 251]) * size)
    return path


def _evidence(still: Path, clip: Path) -> dict[str, str]:
    sha = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (still, clip)}
    return {
        "still": str(still),
        "still_sha256": sha[still],
        "clip": str(clip),
        "clip_sha256": sha[clip],
    }


def _video(tag: str, timeline: Path, at: datetime) -> Video:
    return Video(
        path=f"{tag}.mp4",
        sha256=tag * 64,
        size=1,
        branch_id="b1",
        camera_id="c1",
        start_ts=at,
        end_ts=at,
        status="done",
        pipeline_version="t",
        timeline_path=str(timeline),
    )


def _seed(tmp_path: Path) -> Store:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    media = tmp_path / "media"
    media.mkdir()
    f = {
        name: _file(media, name, size)
        for name, size in [
            ("old_still.jpg", 1000),
            ("old_clip.mp4", 50_000),  # dismissed 200 days ago
            ("case_still.jpg", 1100),
            ("case_clip.mp4", 51_000),  # in an open notice
            ("appeal_still.jpg", 1200),
            ("appeal_clip.mp4", 52_000),  # under appeal
            ("new_still.jpg", 1300),
            ("new_clip.mp4", 53_000),  # dismissed 10 days ago
            ("pending_still.jpg", 1400),
            ("pending_clip.mp4", 54_000),  # never reviewed
            ("shared_clip.mp4", 55_000),  # old event whose still is new_still.jpg
            ("closed_still.jpg", 1500),
            ("closed_clip.mp4", 56_000),  # notice closed 100 d ago
            ("old_timeline.npz", 7000),
            ("held_timeline.npz", 8000),
        ]
    }
    now = utcnow()
    old = now - timedelta(days=200)
    with Session(engine) as db:
        db.add(Branch(id="b1", name="城东支行", timezone="Asia/Shanghai"))
        db.flush()
        v_old = _video("a", f["old_timeline.npz"], old)
        v_held = _video("b", f["held_timeline.npz"], old)
        db.add_all([v_old, v_held])
        db.flush()

        def event(key: str, status: str, still: str, clip: str, video: Video) -> EventRecord:
            row = EventRecord(
                key=key,
                item="GUARD_POSTURE",
                branch_id="b1",
                camera_id="c1",
                start_ts=old,
                end_ts=old,
                evidence=_evidence(f[still], f[clip]),
                status=status,
                rule_version="1",
                detector_version="t",
                video_id=video.id,
                created_at=old,
            )
            db.add(row)
            db.flush()
            return row

        e_old = event("old", "dismissed", "old_still.jpg", "old_clip.mp4", v_old)
        e_case = event("case", "confirmed", "case_still.jpg", "case_clip.mp4", v_held)
        e_appeal = event("appeal", "confirmed", "appeal_still.jpg", "appeal_clip.mp4", v_old)
        e_new = event("new", "dismissed", "new_still.jpg", "new_clip.mp4", v_old)
        event("pending", "pending", "pending_still.jpg", "pending_clip.mp4", v_held)
        e_shared = event("shared", "dismissed", "new_still.jpg", "shared_clip.mp4", v_old)
        e_closed = event("closed", "confirmed", "closed_still.jpg", "closed_clip.mp4", v_old)
        for e, at in [
            (e_old, old),
            (e_case, old),
            (e_appeal, old),
            (e_shared, old),
            (e_new, now - timedelta(days=10)),
            (e_closed, old),
        ]:
            db.add(
                Review(
                    event_id=e.id,
                    reviewer="sup1",
                    action="x",
                    before_status="pending",
                    after_status=e.status,
                    created_at=at,
                )
            )
        notice = Notice(number="n1", branch_id="b1", period="2026-05", version=1)
        closed_notice = Notice(number="n0", branch_id="b1", period="2026-04", version=1)
        db.add_all([notice, closed_notice])
        db.flush()
        db.add(
            NoticeCase(
                notice_id=notice.id,
                branch_id="b1",
                period="2026-05",
                state="returned",
                event_ids=[e_case.id],
                issued_by="sup1",
                due_date=date(2026, 6, 1),
            )
        )
        db.add(
            NoticeCase(
                notice_id=closed_notice.id,
                branch_id="b1",
                period="2026-04",
                state="closed",
                event_ids=[e_closed.id],
                issued_by="sup1",
                due_date=date(2026, 5, 1),
                closed_at=now - timedelta(days=100),
            )
        )
        db.add(Appeal(event_id=e_appeal.id, branch_id="b1", reason="误判", filed_by="br1"))
        db.commit()
    engine.dispose()
    # The timeline of v_old has the appeal event: held. e_closed's notice closed 100 days ago.
    return Store(
        url,
        f,
        {"old_still.jpg", "old_clip.mp4", "shared_clip.mp4", "closed_still.jpg", "closed_clip.mp4"},
    )


def test_dry_run_then_apply_deletes_exactly_the_expired_files(tmp_path: Path) -> None:
    store = _seed(tmp_path)
    freed = sum(store.files[n].stat().st_size for n in store.expected)

    dry = runner.invoke(app, ["retention", "apply", "--db", store.url])
    assert dry.exit_code == 0, dry.output
    assert f"would free {freed} bytes" in dry.output and "dry run" in dry.output
    assert all(p.exists() for p in store.files.values())

    done = runner.invoke(app, ["retention", "apply", "--execute", "--db", store.url])
    assert done.exit_code == 0, done.output
    assert f"freed {freed} bytes" in done.output
    assert {n for n, p in store.files.items() if not p.exists()} == store.expected

    engine = make_engine(store.url)
    with Session(engine) as db:
        events = {e.key: e for e in db.scalars(select(EventRecord))}
        audits = list(db.scalars(select(AuditLog).where(AuditLog.action == "evidence_expired")))
        timelines = {v.sha256[0]: v.timeline_path for v in db.scalars(select(Video))}
    engine.dispose()
    assert len(events) == 7  # no event is deleted
    old = events["old"].evidence
    assert "still" not in old and "clip" not in old
    assert old["still_sha256"] and old["clip_sha256"] and old["clip_deleted_at"]
    assert events["shared"].evidence["still"] == str(store.files["new_still.jpg"])
    assert "clip" not in events["shared"].evidence
    assert events["case"].evidence["clip"] and events["appeal"].evidence["still"]
    assert timelines == {
        "a": str(store.files["old_timeline.npz"]),
        "b": str(store.files["held_timeline.npz"]),
    }
    assert sorted(a.target for a in audits) == sorted(
        f"event:{events[k].id}" for k in ("old", "shared", "closed")
    )
    assert sum(int((a.after or {})["bytes"]) for a in audits) == freed

    again = runner.invoke(app, ["retention", "apply", "--execute", "--db", store.url])
    assert "0 files, freed 0 bytes" in again.output


def test_timeline_goes_when_every_event_of_its_export_expired(tmp_path: Path) -> None:
    store = _seed(tmp_path)
    engine = make_engine(store.url)
    with Session(engine) as db:  # the appeal is decided; only the 10-day-old review holds v_old
        appeal = db.scalars(select(Appeal)).one()
        appeal.state = "upheld"
        db.commit()
    engine.dispose()
    result = runner.invoke(
        app,
        [
            "retention",
            "apply",
            "--execute",
            "--db",
            store.url,
            "--timeline-days",
            "5",
            "--clip-days",
            "5",
            "--still-days",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert not store.files["old_timeline.npz"].exists()
    assert store.files["held_timeline.npz"].exists()  # its export has an open-notice event
    assert store.files["pending_clip.mp4"].exists() and store.files["case_clip.mp4"].exists()
    assert not store.files["new_clip.mp4"].exists() and not store.files["appeal_clip.mp4"].exists()
    engine = make_engine(store.url)
    with Session(engine) as db:
        video = db.scalars(select(Video).where(Video.sha256 == "a" * 64)).one()
    engine.dispose()
    assert video.timeline_path is None and len(video.stats["timeline_sha256"]) == 64
