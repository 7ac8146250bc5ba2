"""What the batch and the review service read and write: runs, videos, events, coverage gaps.

A :class:`Store` wraps a session the caller owns, so all writes of one unit of work (one export
file: its video row, events and gaps) commit or roll back together::

    with session_scope(engine) as session:
        store = Store(session)
        video = store.record_video(path=..., sha256=..., ...)
        store.add_events(events, detector_version="yolo11n-pose@1", video_id=video.id, run_id=run)

Writes are idempotent: a video is one row per ``(sha256, pipeline_version)`` and an event one row
per :attr:`rules.types.Event.key`, so scanning the same files again adds nothing, and an event a
supervisor has reviewed is never overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from api.config import SiteConfig
from api.db.models import Branch, Camera, CoverageGap, EventRecord, Run, Video, utcnow
from rules.types import Event, EventStatus

logger = logging.getLogger(__name__)

KEY_CHUNK = 500
"""Event keys per ``IN (...)`` query."""


class RunStatus(StrEnum):
    """State of one ``scan`` invocation."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class VideoStatus(StrEnum):
    """State of one export file."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class StoreError(LookupError):
    """A store operation refers to something that is not stored (a run, a branch)."""


class UnknownName(LookupError):
    """A branch or camera id that the store does not hold; the message lists those it does."""


def require_known(kind: str, value: str | None, known: Collection[str]) -> None:
    """Raise :class:`UnknownName` when ``value`` is given and not in ``known``.

    Example:
        >>> require_known("branch", "nosuch", ["demo"])
        Traceback (most recent call last):
        api.store.UnknownName: no branch 'nosuch' in the database (branches: demo)
    """
    if value is not None and value not in known:
        listed = ", ".join(sorted(known)) or "none"
        plural = kind + ("es" if kind.endswith(("ch", "sh", "s")) else "s")
        raise UnknownName(f"no {kind} {value!r} in the database ({plural}: {listed})")


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events :meth:`Store.list_events` returns; ``None`` fields do not filter.

    Attributes:
        branch: Branch id.
        camera: Camera id.
        item: Inspection item code.
        status: Review status.
        since: Events starting at or after this time (timezone-aware).
        until: Events starting before this time (timezone-aware).
        limit: At most this many events (``None``: all).
        offset: Skip this many events first (for paging).
    """

    branch: str | None = None
    camera: str | None = None
    item: str | None = None
    status: EventStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        for name, value in (("since", self.since), ("until", self.until)):
            if value is not None and value.tzinfo is None:
                raise ValueError(f"event filter {name}={value.isoformat()} needs a time zone")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"event filter limit must be >= 1, got {self.limit}")
        if self.offset < 0:
            raise ValueError(f"event filter offset must be >= 0, got {self.offset}")


class Store:
    """Typed reads and writes over a caller-owned session; nothing here commits.

    Args:
        session: Session of the current unit of work (see :func:`api.db.session.session_scope`).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        dialect = session.get_bind().dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    # --- site and runs -------------------------------------------------------------------

    def sync_site(self, config: SiteConfig) -> None:
        """Insert or update the branches and cameras of a configuration.

        Cameras no longer configured are kept: stored events still refer to them.

        Args:
            config: The loaded site configuration.
        """
        for branch in config.branches:
            checked = sorted(config.branch_video_items(branch))
            stmt = self._insert(Branch).values(
                id=branch.id, name=branch.name, timezone=branch.timezone, video_items=checked
            )
            self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[Branch.id],
                    set_={
                        "name": stmt.excluded.name,
                        "timezone": stmt.excluded.timezone,
                        "video_items": stmt.excluded.video_items,
                    },
                )
            )
            for camera in branch.cameras:
                cam_stmt = self._insert(Camera).values(
                    branch_id=branch.id, camera_id=camera.id, name=camera.name
                )
                self.session.execute(
                    cam_stmt.on_conflict_do_update(
                        index_elements=[Camera.branch_id, Camera.camera_id],
                        set_={"name": cam_stmt.excluded.name},
                    )
                )
        logger.debug("synced %d branches", len(config.branches))

    def start_run(self, config_path: str, pipeline_version: str) -> int:
        """Record the start of a ``scan`` and return its id."""
        run = Run(
            config_path=config_path,
            pipeline_version=pipeline_version,
            status=RunStatus.RUNNING.value,
        )
        self.session.add(run)
        self.session.flush()
        return run.id

    def finish_run(self, run_id: int, status: RunStatus | str, stats: Mapping[str, Any]) -> None:
        """Record the end of a run with its outcome and summary figures.

        Raises:
            StoreError: No run has this id.
            ValueError: ``status`` is not a :class:`RunStatus`.
        """
        outcome = RunStatus(status)
        run = self.session.get(Run, run_id)
        if run is None:
            raise StoreError(f"no run with id {run_id}")
        run.status = outcome.value
        run.stats = dict(stats)
        run.finished_at = utcnow()
        self.session.flush()

    def branch_video_items(self) -> dict[str, frozenset[str]]:
        """Items each branch's rules can check on video, for branches where it is known."""
        rows = self.session.execute(select(Branch.id, Branch.video_items)).all()
        return {b: frozenset(items) for b, items in rows if items is not None}

    def branch_timezones(self) -> dict[str, ZoneInfo]:
        """Time zone of every stored branch, by branch id."""
        rows = self.session.execute(select(Branch.id, Branch.timezone)).all()
        return {branch_id: ZoneInfo(tz) for branch_id, tz in rows}

    def camera_ids(self, branch: str | None = None) -> list[str]:
        """Ids of the stored cameras (of one branch), sorted."""
        query = select(Camera.camera_id).distinct()
        if branch is not None:
            query = query.where(Camera.branch_id == branch)
        return sorted(self.session.scalars(query))

    # --- videos --------------------------------------------------------------------------

    def done_videos(self, branch: str, pipeline_versions: Collection[str]) -> list[Video]:
        """Videos of a branch analysed by these pipeline versions, by camera and start."""
        return list(
            self.session.scalars(
                select(Video)
                .where(
                    Video.branch_id == branch,
                    Video.pipeline_version.in_(pipeline_versions),
                    Video.status == VideoStatus.DONE.value,
                )
                .order_by(Video.camera_id, Video.start_ts)
            )
        )

    def record_video(
        self,
        *,
        path: str,
        sha256: str,
        size: int,
        pipeline_version: str,
        status: VideoStatus | str,
        branch: str | None = None,
        camera: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        error: str | None = None,
        run_id: int | None = None,
        timeline_path: str | None = None,
        stats: Mapping[str, Any] | None = None,
    ) -> Video:
        """Store the outcome of one export file; one row per ``(sha256, pipeline_version)``.

        A later outcome for the same file updates the row (a failed file that now succeeds
        becomes ``done``), except that a failure never replaces a stored success.

        Args:
            path: Where the file was found.
            sha256: Hex digest of the file's content.
            size: File size in bytes.
            pipeline_version: Version of the vision pipeline that analysed it.
            status: Outcome; ``failed`` needs ``error``.
            branch: Branch id the file belongs to, if known.
            camera: Camera id, if known.
            start: Time of the first frame (timezone-aware), if known.
            end: Time of the last frame (timezone-aware), if known.
            error: Why the file could not be processed.
            run_id: Run that processed it.
            timeline_path: Where its observation timeline was saved.
            stats: Figures of the analysis.

        Returns:
            The stored row (the existing success if ``status`` is ``failed``).

        Raises:
            ValueError: An unknown status, or a failure without an error message.
        """
        status = VideoStatus(status)
        if status is VideoStatus.FAILED and not error:
            raise ValueError(f"video {path}: a failed video needs an error message")
        values: dict[str, Any] = {
            "path": path,
            "size": size,
            "branch_id": branch,
            "camera_id": camera,
            "start_ts": start,
            "end_ts": end,
            "status": status.value,
            "error": None if status is VideoStatus.DONE else error,
            "run_id": run_id,
            "timeline_path": timeline_path,
            "stats": dict(stats or {}),
        }
        stmt = (
            self._insert(Video)
            .values(sha256=sha256, pipeline_version=pipeline_version, **values)
            .on_conflict_do_nothing(index_elements=[Video.sha256, Video.pipeline_version])
            .returning(Video.id)
        )
        new_id = self.session.execute(stmt).scalar_one_or_none()
        video = self.session.scalars(
            select(Video)
            .where(Video.sha256 == sha256, Video.pipeline_version == pipeline_version)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if new_id is not None:
            return video
        if status is VideoStatus.FAILED and video.status == VideoStatus.DONE.value:
            logger.warning(
                "video %s (sha256 %s) failed now but is stored as done; keeping the success: %s",
                path,
                sha256[:12],
                error,
            )
            return video
        for name, value in values.items():
            setattr(video, name, value)
        self.session.flush()
        return video

    # --- events --------------------------------------------------------------------------

    def add_events(
        self,
        events: Sequence[Event],
        detector_version: str,
        video_id: int | None,
        run_id: int | None,
        evidence: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> int:
        """Store new findings as ``pending``; findings already stored are left untouched.

        Args:
            events: Findings of the rules; their branch must be stored (:meth:`sync_site`).
            detector_version: Version of the detector whose observations they come from.
            video_id: Video they were found in, if any.
            run_id: Run that found them.
            evidence: Evidence of each event by :attr:`Event.key` (paths, sha256 of files).

        Returns:
            How many events were inserted (already stored keys do not count).

        Raises:
            ValueError: ``evidence`` has a key that is not the key of one of ``events``.
        """
        evidence = evidence or {}
        stray = set(evidence) - {ev.key for ev in events}
        if stray:
            raise ValueError(
                f"evidence must be keyed by Event.key; {sorted(stray)[:3]} match no event"
            )
        if not events:
            return 0
        now = utcnow()
        rows = [
            {
                "key": ev.key,
                "item": ev.item,
                "branch_id": ev.branch,
                "camera_id": ev.camera,
                "start_ts": ev.start,
                "end_ts": ev.end,
                "zone": ev.zone,
                "people": [
                    {"track_id": int(track), "role": role}
                    for track, role in zip(ev.track_ids, ev.roles, strict=True)
                ],
                "details": dict(ev.details),
                "evidence": dict(evidence.get(ev.key, {})),
                "evidence_ts": ev.evidence_ts,
                "box": list(ev.box) if ev.box is not None else None,
                "status": EventStatus.PENDING.value,
                "rule_version": ev.rule_version,
                "detector_version": detector_version,
                "video_id": video_id,
                "run_id": run_id,
                "created_at": now,
            }
            for ev in events
        ]
        stmt = (
            self._insert(EventRecord)
            .on_conflict_do_nothing(index_elements=[EventRecord.key])
            .returning(EventRecord.id)
        )
        inserted = len(self.session.execute(stmt, rows).all())
        logger.debug("stored %d of %d events (video %s)", inserted, len(rows), video_id)
        return inserted

    def events_without_clip(self) -> list[EventRecord]:
        """Events found in a video whose evidence holds no clip, with their video loaded."""
        rows = self.session.scalars(
            select(EventRecord)
            .where(EventRecord.video_id.is_not(None))
            .options(selectinload(EventRecord.video))
            .order_by(EventRecord.camera_id, EventRecord.start_ts, EventRecord.id)
        )
        return [e for e in rows if not e.evidence.get("clip")]

    def add_evidence(self, event_id: int, fields: Mapping[str, Any]) -> None:
        """Merge evidence fields into a stored event's (a clip cut later, or its problem)."""
        event = self.session.get(EventRecord, event_id, with_for_update=True)
        if event is None:
            raise LookupError(f"no event {event_id}")
        merged = {k: v for k, v in event.evidence.items() if not k.startswith("clip_problem")}
        event.evidence = {**merged, **fields}
        self.session.flush()

    def unknown_event_keys(self, keys: Sequence[str]) -> set[str]:
        """The keys among ``keys`` that no stored event has (to skip evidence of known ones)."""
        wanted = set(keys)
        known: set[str] = set()
        ordered = sorted(wanted)
        for i in range(0, len(ordered), KEY_CHUNK):
            chunk = ordered[i : i + KEY_CHUNK]
            known.update(
                self.session.scalars(select(EventRecord.key).where(EventRecord.key.in_(chunk)))
            )
        return wanted - known

    def list_events(self, filters: EventFilter) -> list[EventRecord]:
        """Stored events matching ``filters``, ordered by start time, with their video loaded."""
        query = select(EventRecord).options(selectinload(EventRecord.video))
        if filters.branch is not None:
            query = query.where(EventRecord.branch_id == filters.branch)
        if filters.camera is not None:
            query = query.where(EventRecord.camera_id == filters.camera)
        if filters.item is not None:
            query = query.where(EventRecord.item == filters.item)
        if filters.status is not None:
            query = query.where(EventRecord.status == filters.status.value)
        if filters.since is not None:
            query = query.where(EventRecord.start_ts >= filters.since)
        if filters.until is not None:
            query = query.where(EventRecord.start_ts < filters.until)
        query = query.order_by(EventRecord.start_ts, EventRecord.id).offset(filters.offset)
        if filters.limit is not None:
            query = query.limit(filters.limit)
        return list(self.session.scalars(query))

    # --- coverage ------------------------------------------------------------------------

    def replace_coverage_gaps(
        self,
        branch: str,
        camera: str,
        day: date | str,
        gaps: Sequence[tuple[datetime, datetime]],
    ) -> int:
        """Replace the stored footage gaps of one camera-day.

        Args:
            branch: Branch id.
            camera: Camera id.
            day: Business day (in the branch's time zone), as a date or ``YYYY-MM-DD``.
            gaps: ``[start, end)`` intervals with aware datetimes, as
                the MISSING_FOOTAGE findings give them; may be empty.

        Returns:
            How many gaps are now stored for that camera-day.

        Raises:
            ValueError: ``day`` is not a date, a time is naive, or a gap ends before it starts.
        """
        where = f"coverage gaps of {branch}/{camera} on {day}"
        try:
            day_key = (day if isinstance(day, date) else date.fromisoformat(day)).isoformat()
        except ValueError as exc:
            raise ValueError(f"{where}: day must be YYYY-MM-DD") from exc
        for start, end in gaps:
            if start.tzinfo is None or end.tzinfo is None:
                raise ValueError(f"{where}: gap {start} – {end} needs a time zone")
            if end <= start:
                raise ValueError(f"{where}: gap ends ({end}) before it starts ({start})")
        self.session.execute(
            delete(CoverageGap).where(
                CoverageGap.branch_id == branch,
                CoverageGap.camera_id == camera,
                CoverageGap.day == day_key,
            )
        )
        self.session.add_all(
            CoverageGap(branch_id=branch, camera_id=camera, day=day_key, start_ts=s, end_ts=e)
            for s, e in gaps
        )
        self.session.flush()
        return len(gaps)
