"""What follows a nightly scan: tell people, remind of due notices, apply retention.

One call at the end of the scan (:func:`after_nightly_run`); nothing here can fail the scan: a
problem is logged in one line and the scan's own result stands.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from api.db.models import EventRecord
from api.db.session import session_scope
from api.notices.lifecycle import remind_due
from api.notify.outbox import notify
from api.notify.topics import DUE_SOON_WORKING_DAYS, Topic
from api.retention import RetentionPolicy, apply_retention
from rules.types import EventStatus

logger = logging.getLogger(__name__)


def after_nightly_run(engine: Engine, run_id: int, ok: bool, events_new: int) -> None:
    """Queue the run's notifications, remind of due notices, and apply retention if configured.

    Args:
        engine: The store.
        run_id: The finished run.
        ok: Whether the run succeeded.
        events_new: Events the run found.
    """
    try:
        with session_scope(engine) as db:
            pending = db.execute(
                select(EventRecord.branch_id, func.count(EventRecord.id))
                .where(
                    EventRecord.run_id == run_id,
                    EventRecord.status == EventStatus.PENDING.value,
                )
                .group_by(EventRecord.branch_id)
            ).all()
            for branch_id, count in pending:
                notify(
                    db,
                    Topic.EVENTS_PENDING,
                    branch_id,
                    f"{branch_id} 新增 {count} 个待复核事件",
                    f"夜间分析（第 {run_id} 次）在网点 {branch_id} 发现 {count} 个待复核事件，"
                    "请登录复核队列处理。",
                    key=f"pending:{run_id}:{branch_id}",
                )
            topic = Topic.RUN_FINISHED if ok else Topic.RUN_FAILED
            notify(
                db,
                topic,
                None,
                f"夜间分析{'完成' if ok else '失败'}（第 {run_id} 次）",
                f"第 {run_id} 次夜间分析{'完成' if ok else '失败'}，新增事件 {events_new} 个。",
                key=f"run:{run_id}",
            )
            remind_due(db, DUE_SOON_WORKING_DAYS)
        policy = RetentionPolicy()
        if policy.nightly:
            report = apply_retention(engine, policy, execute=True)
            logger.info(
                "retention: %d expired files deleted, %d bytes freed",
                len(report.files),
                report.freed_bytes,
            )
    except (SQLAlchemyError, OSError) as exc:
        logger.error("after run %d: notifications/retention not done: %s", run_id, exc)
