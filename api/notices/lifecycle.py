"""What happens to a notice after it is written: issued, acknowledged, answered, verified.

``issued`` → ``acknowledged`` (the branch has seen it) → ``answered`` (its text per finding and
photos) → ``closed`` (verified by a supervisor), or ``returned`` with a reason → ``answered``
again, as often as it takes. The branch's answer is due ``answer_working_days`` working days
after the notice is issued (business calendar: :mod:`rules.calendar`); a notice not answered by
then is overdue. Every step is audited and the branch's own account is the only one that answers.

Example:
    >>> case = issue_notice(db, supervisor, notice, [12, 15], RectificationSettings(), ip)
    >>> answer_notice(db, branch_user, case, {12: "已整改", 15: "已培训"}, {}, ip)
    >>> decide_answer(db, supervisor, case, close=True, reason="", ip=ip)
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import AuditAction, Principal, Role, record_audit
from api.db.loop_models import AnswerPhoto, NoticeAnswer, NoticeCase, NoticeRound
from api.db.models import Branch, Notice, utcnow
from api.db.session import begin_write
from api.notices.photos import StoredPhoto
from api.notify.outbox import notify
from api.notify.topics import Topic
from rules.calendar import add_working_days, working_days_between

logger = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 2000


class CaseState(StrEnum):
    """Where an issued notice stands."""

    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    RETURNED = "returned"
    CLOSED = "closed"


OPEN_STATES = frozenset(CaseState) - {CaseState.CLOSED}
AWAITING_BRANCH = frozenset({CaseState.ISSUED, CaseState.ACKNOWLEDGED, CaseState.RETURNED})


class RectificationSettings(BaseSettings):
    """Deadlines and upload folder of the loop, from ``BRANCHWATCH_RECTIFICATION_*``."""

    model_config = SettingsConfigDict(
        env_prefix="BRANCHWATCH_RECTIFICATION_", extra="forbid", frozen=True
    )

    answer_working_days: int = Field(
        default=5, ge=1, le=60, description="Working days a branch has to answer a notice."
    )
    appeal_working_days: int = Field(
        default=5, ge=1, le=60, description="Working days after confirmation to appeal an event."
    )
    photo_dir: Path = Field(
        default=Path("answer-photos"), description="Folder of the photos branches upload."
    )
    photo_max_mb: int = Field(default=10, ge=1, le=100, description="Largest photo (MB).")
    photos_per_finding: int = Field(default=6, ge=1, le=50, description="Photos per finding.")


class StepNotAllowed(PermissionError):
    """The caller may not take this step (of a notice or an appeal)."""


class StepConflict(RuntimeError):
    """The notice or appeal is not in a state that allows this step."""


class StepInvalid(ValueError):
    """The step's content is incomplete or wrong (names what)."""


def branch_date(db: Session, branch_id: str, at: datetime) -> date:
    """The calendar day of ``at`` in the branch's time zone."""
    tz = db.scalar(select(Branch.timezone).where(Branch.id == branch_id)) or "Asia/Shanghai"
    return at.astimezone(ZoneInfo(tz)).date()


def branch_today(db: Session, branch_id: str) -> date:
    """Today in the branch's time zone."""
    return branch_date(db, branch_id, utcnow())


def is_overdue(case: NoticeCase, today: date) -> bool:
    """Whether the branch owes an answer and its due date has passed."""
    return CaseState(case.state) in AWAITING_BRANCH and today > case.due_date


def due_soon(case: NoticeCase, today: date, within: int) -> bool:
    """Whether the branch owes an answer due within ``within`` working days (not yet overdue)."""
    if CaseState(case.state) not in AWAITING_BRANCH or today > case.due_date:
        return False
    return working_days_between(today, case.due_date) <= within


def _state(case: NoticeCase) -> dict[str, object]:
    return {"state": case.state, "due_date": case.due_date.isoformat(), "round": len(case.rounds)}


def _audit(
    db: Session,
    action: AuditAction,
    principal: Principal,
    case: NoticeCase,
    before: Mapping[str, object] | None,
    after: Mapping[str, object],
    ip: str,
) -> None:
    record_audit(
        db,
        action,
        principal=principal,
        target=f"notice:{case.notice_id}",
        branch_id=case.branch_id,
        before=before,
        after=after,
        ip=ip,
    )


def issue_notice(
    db: Session,
    principal: Principal,
    notice: Notice,
    event_ids: Sequence[int],
    settings: RectificationSettings,
    ip: str,
) -> NoticeCase:
    """Issue a stored (final) notice version to its branch; the answer is due in working days.

    Raises:
        StepNotAllowed: The caller does not review this branch.
        StepConflict: The version is a preview, or it or another version of the period is open.
    """
    begin_write(db)
    db.refresh(notice)
    if not principal.can_review(notice.branch_id):
        raise StepNotAllowed("无权下发该网点的整改通知书")
    if notice.preview:
        raise StepConflict("预览版不能下发，请先生成正式版")
    open_case = db.scalar(
        select(NoticeCase).where(
            NoticeCase.branch_id == notice.branch_id,
            NoticeCase.period == notice.period,
            NoticeCase.state.in_([s.value for s in OPEN_STATES]),
        )
    )
    if open_case is not None or db.scalar(
        select(NoticeCase.id).where(NoticeCase.notice_id == notice.id)
    ):
        raise StepConflict("该期整改通知书已下发且尚未关闭")
    today = branch_today(db, notice.branch_id)
    case = NoticeCase(
        notice_id=notice.id,
        branch_id=notice.branch_id,
        period=notice.period,
        state=CaseState.ISSUED.value,
        event_ids=sorted(set(event_ids)),
        issued_at=utcnow(),
        issued_by=principal.username,
        due_date=add_working_days(today, settings.answer_working_days),
    )
    db.add(case)
    db.flush()
    _audit(
        db,
        AuditAction.NOTICE_ISSUED,
        principal,
        case,
        None,
        {**_state(case), "findings": len(case.event_ids)},
        ip,
    )
    notify(
        db,
        Topic.NOTICE_ISSUED,
        case.branch_id,
        f"整改通知书 {notice.number} 已下发",
        f"网点 {case.branch_id}：{case.period} 整改通知书（{len(case.event_ids)} 项问题）已下发，"
        f"请于 {case.due_date.isoformat()} 前提交整改回复。",
        key=f"issued:{case.id}",
    )
    return case


def _own_branch(principal: Principal, case: NoticeCase) -> None:
    if principal.role is not Role.BRANCH or case.branch_id not in principal.branches:
        raise StepNotAllowed("只有本网点账号可以签收和回复整改通知书")


def acknowledge(db: Session, principal: Principal, case: NoticeCase, ip: str) -> None:
    """The branch confirms it has received the notice.

    Raises:
        StepNotAllowed: Not the branch's own account.
        StepConflict: Already acknowledged or further.
    """
    begin_write(db)
    db.refresh(case)
    _own_branch(principal, case)
    if case.state != CaseState.ISSUED:
        raise StepConflict("通知书已签收")
    before = _state(case)
    case.state, case.acknowledged_at = CaseState.ACKNOWLEDGED.value, utcnow()
    _audit(db, AuditAction.NOTICE_ACKNOWLEDGED, principal, case, before, _state(case), ip)


def check_answer(principal: Principal, case: NoticeCase, texts: Mapping[int, str]) -> None:
    """Whether the branch may answer now with these texts (before any photo is stored).

    Raises:
        StepNotAllowed: Not the branch's own account.
        StepConflict: The notice is answered (awaiting verification) or closed.
        StepInvalid: A finding has no answer, or an answer names an event not in the notice.
    """
    _own_branch(principal, case)
    if CaseState(case.state) not in AWAITING_BRANCH:
        raise StepConflict("该通知书当前不能回复（待验收或已关闭）")
    findings = [int(e) for e in case.event_ids]
    unknown = sorted(set(texts) - set(findings))
    if unknown:
        raise StepInvalid(f"事件 {unknown} 不在该通知书中")
    missing = [e for e in findings if not texts.get(e, "").strip()]
    if missing:
        raise StepInvalid(f"请填写每项问题的整改情况（缺：事件 {missing}）")


def answer_notice(
    db: Session,
    principal: Principal,
    case: NoticeCase,
    texts: Mapping[int, str],
    photos: Mapping[int, Sequence[StoredPhoto]],
    ip: str,
) -> NoticeRound:
    """The branch answers every finding with what it did (and photos); acknowledges if needed.

    Raises:
        StepNotAllowed: Not the branch's own account.
        StepConflict: The notice is answered (awaiting verification) or closed.
        StepInvalid: A finding has no answer, or an answer names an event not in the notice.
    """
    begin_write(db)
    db.refresh(case)
    check_answer(principal, case, texts)
    findings = [int(e) for e in case.event_ids]
    before = _state(case)
    now = utcnow()
    if case.acknowledged_at is None:
        case.acknowledged_at = now
    row = NoticeRound(case_id=case.id, round=len(case.rounds) + 1, answered_by=principal.username)
    db.add(row)
    db.flush()
    count = 0
    for event_id in findings:
        answer = NoticeAnswer(
            round_id=row.id, event_id=event_id, text=texts[event_id].strip()[:MAX_ANSWER_CHARS]
        )
        db.add(answer)
        db.flush()
        for photo in photos.get(event_id, ()):
            db.add(
                AnswerPhoto(
                    answer_id=answer.id,
                    branch_id=case.branch_id,
                    path=str(photo.path),
                    sha256=photo.sha256,
                    size=photo.size,
                    width=photo.width,
                    height=photo.height,
                    original_name=photo.original_name,
                )
            )
            count += 1
    case.state = CaseState.ANSWERED.value
    db.flush()
    db.refresh(case)
    _audit(
        db,
        AuditAction.NOTICE_ANSWERED,
        principal,
        case,
        before,
        {**_state(case), "photos": count},
        ip,
    )
    return row


def decide_answer(
    db: Session, principal: Principal, case: NoticeCase, *, close: bool, reason: str, ip: str
) -> None:
    """A supervisor verifies the latest answer: close the notice, or return it with a reason.

    Raises:
        StepNotAllowed: The caller does not review this branch.
        StepConflict: There is no answer awaiting verification.
        StepInvalid: A return without a reason.
    """
    begin_write(db)
    db.refresh(case)
    if not principal.can_review(case.branch_id):
        raise StepNotAllowed("无权验收该网点的整改回复")
    if case.state != CaseState.ANSWERED or not case.rounds:
        raise StepConflict("没有待验收的整改回复")
    reason = reason.strip()[:MAX_ANSWER_CHARS]
    if not close and not reason:
        raise StepInvalid("退回整改回复须写明原因")
    before = _state(case)
    latest = case.rounds[-1]
    now = utcnow()
    latest.decision = CaseState.CLOSED.value if close else CaseState.RETURNED.value
    latest.decided_by, latest.decided_at, latest.reason = principal.username, now, reason
    case.state = latest.decision
    if close:
        case.closed_at = now
    _audit(
        db,
        AuditAction.NOTICE_CLOSED if close else AuditAction.NOTICE_RETURNED,
        principal,
        case,
        before,
        {**_state(case), "reason": reason} if reason else _state(case),
        ip,
    )


def visible_cases(db: Session, principal: Principal) -> list[NoticeCase]:
    """Issued notices the caller may see, newest first."""
    query = select(NoticeCase).order_by(NoticeCase.issued_at.desc(), NoticeCase.id.desc())
    branches = principal.visible_branches
    if branches is not None:
        query = query.where(NoticeCase.branch_id.in_(sorted(branches)))
    return list(db.scalars(query))


def overdue_counts(db: Session, branches: Collection[str] | None = None) -> dict[str, int]:
    """Overdue notices per branch (each judged by the branch's own today)."""
    query = select(NoticeCase).where(NoticeCase.state.in_([s.value for s in AWAITING_BRANCH]))
    if branches is not None:
        query = query.where(NoticeCase.branch_id.in_(list(branches)))
    counts: dict[str, int] = {}
    today: dict[str, date] = {}
    for case in db.scalars(query):
        day = today.setdefault(case.branch_id, branch_today(db, case.branch_id))
        if is_overdue(case, day):
            counts[case.branch_id] = counts.get(case.branch_id, 0) + 1
    return counts


def remind_due(db: Session, within: int) -> int:
    """Queue ``NOTICE_DUE`` messages for notices due soon or overdue (once per kind each).

    Returns:
        Notices reminded of.
    """
    reminded = 0
    query = select(NoticeCase).where(NoticeCase.state.in_([s.value for s in AWAITING_BRANCH]))
    for case in db.scalars(query):
        today = branch_today(db, case.branch_id)
        kind = (
            "overdue"
            if is_overdue(case, today)
            else "soon"
            if due_soon(case, today, within)
            else ""
        )
        if not kind or case.reminded == kind:
            continue
        text = "已逾期" if kind == "overdue" else "即将到期"
        notify(
            db,
            Topic.NOTICE_DUE,
            case.branch_id,
            f"整改回复{text}：{case.branch_id} {case.period}",
            f"网点 {case.branch_id} 的 {case.period} 整改通知书回复期限为 "
            f"{case.due_date.isoformat()}，目前{text}，请尽快提交整改回复。",
            key=f"due:{case.id}:{kind}",
        )
        case.reminded = kind
        reminded += 1
    db.flush()
    return reminded
