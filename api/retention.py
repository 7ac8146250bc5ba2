"""Retention of evidence: clips, stills and timelines are deleted a while after their case ends.

An event's evidence expires ``<kind>_days`` after the event is *closed*: for a dismissed event,
its last review; for a confirmed one, the closing of the issued notice that lists it (or its last
review when it was never in an issued notice). Pending events never expire. Held, whatever their
age: events under an open appeal and events of a notice that is issued and not closed.

A timeline belongs to an export file; it expires when the file's footage and every event from it
are past ``timeline_days`` (and none is held). Deleting keeps the event, the sha256 of every file
(the timeline's is computed before it goes) and an audit entry per event or export file. A file
that another, unexpired event still names is kept.

Example:
    >>> report = apply_retention(engine, RetentionPolicy(), execute=False)  # dry run
    >>> report.freed_bytes
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.auth import AuditAction, record_audit
from api.db.loop_models import Appeal, NoticeCase
from api.db.models import EventRecord, Review, Video, utcnow
from api.db.session import session_scope
from rules.types import EventStatus

logger = logging.getLogger(__name__)

RETENTION_USER = "retention"


class EvidenceClass(StrEnum):
    """Kinds of evidence with a retention period."""

    CLIP = "clip"
    STILL = "still"
    TIMELINE = "timeline"


class RetentionPolicy(BaseSettings):
    """Days evidence is kept after its event is closed, from ``BRANCHWATCH_RETENTION_*``."""

    model_config = SettingsConfigDict(
        env_prefix="BRANCHWATCH_RETENTION_", extra="forbid", frozen=True
    )

    clip_days: int = Field(default=90, ge=1, le=36500, description="Days clips are kept.")
    still_days: int = Field(default=90, ge=1, le=36500, description="Days stills are kept.")
    timeline_days: int = Field(default=90, ge=1, le=36500, description="Days timelines are kept.")
    nightly: bool = Field(
        default=False, description="Delete expired evidence at the end of every nightly scan."
    )

    def days(self, kind: EvidenceClass) -> int:
        """Retention period of a kind."""
        return {
            EvidenceClass.CLIP: self.clip_days,
            EvidenceClass.STILL: self.still_days,
            EvidenceClass.TIMELINE: self.timeline_days,
        }[kind]


@dataclass(frozen=True, slots=True)
class ExpiredFile:
    """A file retention deletes (or would delete)."""

    kind: EvidenceClass
    path: Path
    size: int
    owner: str  # ``event:<id>`` or ``video:<id>``
    branch_id: str | None


@dataclass(slots=True)
class RetentionReport:
    """What a retention pass found and did."""

    executed: bool
    files: list[ExpiredFile] = field(default_factory=list)
    held_events: int = 0
    missing: int = 0

    @property
    def freed_bytes(self) -> int:
        """Bytes the deleted (or, in a dry run, deletable) files took."""
        return sum(f.size for f in self.files)

    def by_kind(self) -> dict[EvidenceClass, tuple[int, int]]:
        """Files and bytes per kind."""
        out: dict[EvidenceClass, tuple[int, int]] = {}
        for f in self.files:
            n, size = out.get(f.kind, (0, 0))
            out[f.kind] = (n + 1, size + f.size)
        return out


def _held_events(db: Session) -> set[int]:
    held = set(db.scalars(select(Appeal.event_id).where(Appeal.state == "open")))
    for ids in db.scalars(select(NoticeCase.event_ids).where(NoticeCase.state != "closed")):
        held.update(int(i) for i in ids)
    return held


def _closed_at(db: Session) -> dict[int, datetime]:
    """When each reviewed event was closed (see the module docstring)."""
    last_review: dict[int, datetime] = {
        event_id: at
        for event_id, at in db.execute(
            select(Review.event_id, func.max(Review.created_at)).group_by(Review.event_id)
        )
    }
    case_closed: dict[int, datetime] = {}
    for ids, closed in db.execute(
        select(NoticeCase.event_ids, NoticeCase.closed_at).where(NoticeCase.state == "closed")
    ):
        if closed is None:
            continue
        for i in ids:
            case_closed[int(i)] = max(closed, case_closed.get(int(i), closed))
    out: dict[int, datetime] = {}
    for event_id, status, created in db.execute(
        select(EventRecord.id, EventRecord.status, EventRecord.created_at)
    ):
        if status == EventStatus.PENDING.value:
            continue
        reviewed = last_review.get(event_id, created)
        out[event_id] = case_closed.get(event_id, reviewed) if status == "confirmed" else reviewed
    return out


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _plan(
    db: Session, policy: RetentionPolicy, now: datetime
) -> tuple[list[ExpiredFile], int, int]:
    held = _held_events(db)
    closed = _closed_at(db)
    events = list(db.scalars(select(EventRecord)))
    expired: list[ExpiredFile] = []
    keep: set[str] = set()
    candidates: list[tuple[EvidenceClass, str, EventRecord]] = []
    missing = 0
    for event in events:
        for kind in (EvidenceClass.CLIP, EvidenceClass.STILL):
            value = event.evidence.get(kind.value)
            if not isinstance(value, str) or not value:
                continue
            closed_at = closed.get(event.id)
            due = closed_at is not None and closed_at + timedelta(days=policy.days(kind)) <= now
            if event.id in held or not due:
                keep.add(value)
            else:
                candidates.append((kind, value, event))
    for kind, value, event in candidates:
        if value in keep:
            continue
        size = _size(Path(value))
        if size is None:
            missing += 1
        expired.append(
            ExpiredFile(kind, Path(value), size or 0, f"event:{event.id}", event.branch_id)
        )
    by_video: dict[int, list[EventRecord]] = defaultdict(list)
    for event in events:
        if event.video_id is not None:
            by_video[event.video_id].append(event)
    limit = timedelta(days=policy.timeline_days)
    for video in db.scalars(select(Video).where(Video.timeline_path.is_not(None))):
        ended = video.end_ts or video.start_ts
        of_video = by_video.get(video.id, [])
        if ended is None or ended + limit > now or any(e.id in held for e in of_video):
            continue
        if any(e.id not in closed or closed[e.id] + limit > now for e in of_video):
            continue
        path = Path(video.timeline_path or "")
        size = _size(path)
        if size is None:
            missing += 1
        expired.append(
            ExpiredFile(
                EvidenceClass.TIMELINE, path, size or 0, f"video:{video.id}", video.branch_id
            )
        )
    held_with_evidence = sum(
        1 for e in events if e.id in held and any(e.evidence.get(k.value) for k in EvidenceClass)
    )
    return expired, held_with_evidence, missing


def _record_deletions(db: Session, files: Iterable[ExpiredFile], now: datetime) -> None:
    """Mark the files deleted on their events and export files, with an audit entry each."""
    by_owner: dict[str, list[ExpiredFile]] = defaultdict(list)
    for f in files:
        by_owner[f.owner].append(f)
    stamp = now.isoformat()
    for owner, owned in by_owner.items():
        kind, _, raw_id = owner.partition(":")
        names = [f"{f.kind.value}: {f.path}" for f in owned]
        if kind == "video":
            video = db.get(Video, int(raw_id))
            if video is None:
                continue
            path = owned[0].path
            stats = dict(video.stats)
            if path.is_file():
                stats["timeline_sha256"] = _sha256(path)
            stats["timeline_deleted_at"] = stamp
            video.stats, video.timeline_path = stats, None
        else:
            event = db.get(EventRecord, int(raw_id))
            if event is None:
                continue
            evidence = dict(event.evidence)
            for f in owned:
                evidence.pop(f.kind.value, None)
                evidence[f"{f.kind.value}_deleted_at"] = stamp
            event.evidence = evidence
        record_audit(
            db,
            AuditAction.EVIDENCE_EXPIRED,
            username=RETENTION_USER,
            target=owner,
            branch_id=owned[0].branch_id,
            before={"files": names},
            after={"bytes": sum(f.size for f in owned)},
        )


def apply_retention(
    engine: Engine, policy: RetentionPolicy, *, execute: bool, now: datetime | None = None
) -> RetentionReport:
    """Find expired evidence and, with ``execute``, delete it.

    Args:
        engine: The store.
        policy: Retention periods.
        execute: Delete; otherwise only report what would be deleted (dry run).
        now: The present (tests and replays give one).

    Returns:
        The files deleted (or deletable), events held, and files already gone.
    """
    now = now or utcnow()
    with session_scope(engine) as db:
        files, held, missing = _plan(db, policy, now)
        if execute:
            _record_deletions(db, files, now)
    if (
        execute
    ):  # the records say "deleted" first: a crash leaves a stray file, never a dangling one
        for f in files:
            f.path.unlink(missing_ok=True)
    report = RetentionReport(executed=execute, files=files, held_events=held, missing=missing)
    logger.info(
        "retention %s: %d files, %d bytes, %d held events",
        "applied" if execute else "dry run",
        len(files),
        report.freed_bytes,
        held,
    )
    return report
