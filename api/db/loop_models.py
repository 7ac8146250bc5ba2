"""Tables of the rectification loop: issued notices and their answers, appeals, notifications.

A notice version that is issued becomes a :class:`NoticeCase`; each answer of the branch is a
:class:`NoticeRound` with its text per finding (:class:`NoticeAnswer`) and photos
(:class:`AnswerPhoto`). Appeals of confirmed events are :class:`Appeal` rows. Notifications go
to :class:`Subscription` targets through :class:`Delivery` rows, the durable outbox.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db.models import Base, utcnow

logger = logging.getLogger(__name__)


class NoticeCase(Base):
    """An issued notice version and where it stands.

    States: ``issued`` → ``acknowledged`` → ``answered`` → ``closed``, or ``returned`` (with a
    reason) → ``answered`` again. ``due_date`` is the branch's deadline for its answer.
    """

    __tablename__ = "notice_cases"
    __table_args__ = (Index("ix_notice_cases_branch_state", "branch_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), unique=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"))
    period: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="issued")
    event_ids: Mapped[list[Any]] = mapped_column(default=list)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date] = mapped_column(Date)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    reminded: Mapped[str] = mapped_column(String(16), default="")

    rounds: Mapped[list[NoticeRound]] = relationship(
        back_populates="case", order_by="NoticeRound.round", lazy="selectin"
    )


class NoticeRound(Base):
    """One answer of the branch and the supervisor's decision on it (``returned``/``closed``)."""

    __tablename__ = "notice_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("notice_cases.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    answered_by: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(16), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[NoticeCase] = relationship(back_populates="rounds")
    answers: Mapped[list[NoticeAnswer]] = relationship(
        back_populates="round_", order_by="NoticeAnswer.id", lazy="selectin"
    )


class NoticeAnswer(Base):
    """What the branch did about one finding (an event) of the notice."""

    __tablename__ = "notice_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("notice_rounds.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    text: Mapped[str] = mapped_column(Text)

    round_: Mapped[NoticeRound] = relationship(back_populates="answers")
    photos: Mapped[list[AnswerPhoto]] = relationship(order_by="AnswerPhoto.id", lazy="selectin")


class AnswerPhoto(Base):
    """A photo the branch uploaded with an answer, stored re-encoded without metadata."""

    __tablename__ = "answer_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("notice_answers.id"), index=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Appeal(Base):
    """A branch's appeal (申诉) of a confirmed event: ``open`` → ``upheld`` or ``overturned``."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"))
    reason: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="open")
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class Subscription(Base):
    """Where notifications of some topics go: a channel and its target, for a branch and role.

    ``branch_id`` ``None`` means every branch; ``role`` names whom the target stands for
    (``supervisor``, ``branch``, ``admin``) and limits topics to those meant for that role.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text, default="")
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"), default=None)
    role: Mapped[str] = mapped_column(String(16))
    topics: Mapped[list[Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One message to one subscription: ``pending`` → ``sending`` → ``sent`` or ``failed``.

    ``key`` makes enqueueing idempotent (one message per subscription and occurrence); a
    ``sending`` row whose lease ran out (its sender died) is taken up again.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    topic: Mapped[str] = mapped_column(String(32))
    branch_id: Mapped[str | None] = mapped_column(String(64), default=None)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
