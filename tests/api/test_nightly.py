"""After a nightly run: pending events, the run's outcome and due notices are notified, once."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.auth import Role
from api.cli.main import app
from api.db.loop_models import Delivery, NoticeCase
from api.db.models import Branch, EventRecord, Notice, Run, utcnow
from api.db.session import make_engine, session_scope, upgrade
from api.nightly import after_nightly_run
from api.notify.channels import Channel
from api.notify.outbox import subscribe
from api.notify.topics import Topic

runner = CliRunner()


def _store(tmp_path: Path, clip: Path) -> tuple[str, int]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    old = utcnow() - timedelta(days=400)
    with session_scope(engine) as db:
        db.add_all([Branch(id=b, name=b, timezone="Asia/Shanghai") for b in ("b1", "b2")])
        run = Run(pipeline_version="t")
        db.add(run)
        db.flush()
        for i, (branch, status) in enumerate(
            [("b1", "pending"), ("b1", "pending"), ("b2", "pending"), ("b2", "dismissed")]
        ):
            db.add(
                EventRecord(
                    key=f"e{i}",
                    item="GUARD_POSTURE",
                    branch_id=branch,
                    camera_id="c1",
                    start_ts=old,
                    end_ts=old,
                    status=status,
                    rule_version="1",
                    detector_version="t",
                    run_id=run.id,
                    created_at=old,
                    evidence={"clip": str(clip), "clip_sha256": "0" * 64}
                    if status == "dismissed"
                    else {},
                )
            )
        notice = Notice(number="n1", branch_id="b1", period="2026-10", version=1)
        db.add(notice)
        db.flush()
        db.add(
            NoticeCase(
                notice_id=notice.id,
                branch_id="b1",
                period="2026-10",
                state="issued",
                event_ids=[],
                issued_by="sup1",
                due_date=date(2026, 11, 2),
            )
        )
        subscribe(
            db,
            name="sup",
            channel=Channel.WEBHOOK,
            target="http://127.0.0.1:9/h",
            role=Role.SUPERVISOR,
            topics=[Topic.EVENTS_PENDING, Topic.RUN_FINISHED],
        )
        subscribe(
            db,
            name="br1",
            channel=Channel.EMAIL,
            target="b1@example.com",
            role=Role.BRANCH,
            branch_id="b1",
            topics=[Topic.NOTICE_DUE, Topic.NOTICE_ISSUED],
        )
        run_id = run.id
    engine.dispose()
    return url, run_id


def test_after_run_notifies_once_and_applies_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x" * 100)
    url, run_id = _store(tmp_path, clip)
    monkeypatch.setenv("BRANCHWATCH_RETENTION_NIGHTLY", "true")
    engine = make_engine(url)
    after_nightly_run(engine, run_id, True, 4)
    after_nightly_run(engine, run_id, True, 4)  # a resumed run queues nothing twice
    with Session(engine) as db:
        rows = list(db.scalars(select(Delivery).order_by(Delivery.id)))
        case = db.scalars(select(NoticeCase)).one()
    engine.dispose()
    got = sorted((d.topic, d.branch_id, d.title) for d in rows)
    assert got == [
        ("events_pending", "b1", "b1 新增 2 个待复核事件"),
        ("events_pending", "b2", "b2 新增 1 个待复核事件"),
        ("notice_due", "b1", "整改回复已逾期：b1 2026-10"),
        ("run_finished", None, f"夜间分析完成（第 {run_id} 次）"),
    ]
    assert case.reminded == "overdue"
    assert not clip.exists()  # the dismissed event's clip was 400 days old


def test_cli_reminds_of_due_notices_once(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    url, _ = _store(tmp_path, clip)
    first = runner.invoke(app, ["notify", "remind", "--db", url])
    again = runner.invoke(app, ["notify", "remind", "--db", url])
    assert "1 notices reminded of" in first.output and "0 notices reminded of" in again.output
    engine = make_engine(url)
    with Session(engine) as db:
        topics = [d.topic for d in db.scalars(select(Delivery))]
    engine.dispose()
    assert topics == ["notice_due"]
