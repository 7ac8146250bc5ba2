"""The answer history of a branch's notice for a period, as printed on a re-issued notice.

Every earlier issue of the same branch and period contributes its rounds: when the branch
answered, what it said per finding, how many photos, and whether the answer was closed or
returned (with the reason).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.loop_models import NoticeCase
from api.db.models import Notice
from api.notices.sections import day_text

logger = logging.getLogger(__name__)

DECISIONS = {"closed": "验收通过", "returned": "退回"}


def answer_history(db: Session, branch: str, period: str) -> tuple[str, ...]:
    """One paragraph per answer round of earlier issues of this notice, oldest first."""
    cases = db.scalars(
        select(NoticeCase)
        .where(NoticeCase.branch_id == branch, NoticeCase.period == period)
        .order_by(NoticeCase.issued_at, NoticeCase.id)
    )
    out: list[str] = []
    for case in cases:
        notice = db.get(Notice, case.notice_id)
        number = notice.number if notice is not None else str(case.notice_id)
        for r in case.rounds:
            answers = "；".join(
                f"事件{a.event_id}：{a.text}" + (f"（照片{len(a.photos)}张）" if a.photos else "")
                for a in r.answers
            )
            verdict = DECISIONS.get(r.decision or "", "待验收")
            if r.reason:
                verdict += f"，原因：{r.reason}"
            out.append(
                f"{number} 第{r.round}次回复（{day_text(r.answered_at.date())}，{r.answered_by}）："
                f"{answers}。验收意见：{verdict}。"
            )
    return tuple(out)
