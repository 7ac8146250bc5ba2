"""SQLAlchemy 2.0 tables of the store. Schema changes go through Alembic (``api/migrations``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; attach a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Stable constraint names, so later migrations (SQLite batch mode included) can alter them."""


class Base(DeclarativeBase):
    """Declarative base of all tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Branch(Base):
    __tablename__ = "branches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    video_items: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    """Items the branch's rules can check on video (from its configuration at the last scan);
    ``None``: not known, every rule counts. Other items of a scheme are 人工检查项."""

    cameras: Mapped[list[Camera]] = relationship(back_populates="branch")


class Camera(Base):
    __tablename__ = "cameras"
    __table_args__ = (UniqueConstraint("branch_id", "camera_id", name="uq_camera"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"))
    camera_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")

    branch: Mapped[Branch] = relationship(back_populates="cameras")


class Run(Base):
    """One invocation of ``scan`` (or a resumed one)."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="running")
    config_path: Mapped[str] = mapped_column(Text, default="")
    pipeline_version: Mapped[str] = mapped_column(String(64))
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Video(Base):
    """One export file; identified by content hash so a renamed or re-copied file is not redone."""

    __tablename__ = "videos"
    __table_args__ = (
        UniqueConstraint("sha256", "pipeline_version", name="uq_video_hash_version"),
        Index("ix_videos_camera_start", "branch_id", "camera_id", "start_ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"), default=None)
    camera_id: Mapped[str | None] = mapped_column(String(64), default=None)
    start_ts: Mapped[datetime | None] = mapped_column(default=None)
    end_ts: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    pipeline_version: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), default=None)
    timeline_path: Mapped[str | None] = mapped_column(Text, default=None)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ScanUnit(Base):
    """One durable unit of scan work: an export file to analyse with one pipeline version.

    States: ``planned`` → ``running`` (claimed by ``owner``, kept alive by ``heartbeat_at``) →
    ``done`` or ``failed`` (``reason``; ``bad_input`` failures are never retried). A unit whose
    owner died is claimed again and redone from scratch; ``attempts`` counts the claims.
    """

    __tablename__ = "scan_units"
    __table_args__ = (
        UniqueConstraint("sha256", "pipeline_version", name="uq_scan_unit_hash_version"),
        Index("ix_scan_units_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64))
    pipeline_version: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    branch_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    start_ts: Mapped[datetime]
    end_ts: Mapped[datetime | None] = mapped_column(default=None)
    state: Mapped[str] = mapped_column(String(16), default="planned")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    bad_input: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(200), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    retry_at: Mapped[datetime | None] = mapped_column(default=None)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), default=None)
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoverageGap(Base):
    """A stretch of business hours with no footage for a camera (reported as MISSING_FOOTAGE)."""

    __tablename__ = "coverage_gaps"
    __table_args__ = (UniqueConstraint("branch_id", "camera_id", "start_ts", name="uq_gap"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"))
    camera_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))
    start_ts: Mapped[datetime]
    end_ts: Mapped[datetime]


class EventRecord(Base):
    """A finding of a rule, pending until a supervisor confirms or dismisses it."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_branch_start", "branch_id", "start_ts"),
        Index("ix_events_start", "start_ts"),
        Index("ix_events_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    item: Mapped[str] = mapped_column(String(64))
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"))
    camera_id: Mapped[str] = mapped_column(String(64))
    start_ts: Mapped[datetime]
    end_ts: Mapped[datetime]
    zone: Mapped[str | None] = mapped_column(String(64), default=None)
    people: Mapped[list[Any]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence_ts: Mapped[datetime | None] = mapped_column(default=None)
    box: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    rule_version: Mapped[str] = mapped_column(String(32))
    detector_version: Mapped[str] = mapped_column(String(64))
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id"), default=None)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    video: Mapped[Video | None] = relationship()


class Review(Base):
    """A supervisor's decision on an event; events are never deleted by review."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    before_status: Mapped[str] = mapped_column(String(16))
    after_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notice(Base):
    """A generated rectification notice (整改通知书); regenerating adds a version."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("branch_id", "period", "version", name="uq_notice_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64))
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"))
    period: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    preview: Mapped[bool] = mapped_column(default=False)
    paths: Mapped[dict[str, Any]] = mapped_column(default=dict)
    total_points: Mapped[float] = mapped_column(Float, default=0.0)
    total_money: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
