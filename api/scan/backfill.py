"""Evidence clips for events stored before the scan cut clips, or whose clip could not be cut.

``branchwatch evidence backfill`` finds every stored event found in a video whose evidence holds
no clip, cuts it from the export with the camera's stored observation timeline, exactly as the
scan does for new events, and adds it (or the named problem) to the event's evidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.config import SiteConfig
from api.db.models import EventRecord
from api.scan import units
from api.scan.evidence import ClipCost, EvidenceSource, write_event_clip
from api.store import Store
from rules.types import Event
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)


@dataclass
class BackfillResult:
    """Clips cut for earlier events, events left without one, and the time spent."""

    clips: ClipCost = field(default_factory=ClipCost)
    skipped: list[str] = field(default_factory=list)
    wall_s: float = 0.0


def as_event(record: EventRecord) -> Event:
    """The rules' event a stored record was made from (same key, times, region)."""
    return Event(
        item=record.item,
        branch=record.branch_id,
        camera=record.camera_id,
        start=record.start_ts,
        end=record.end_ts,
        rule_version=record.rule_version,
        zone=record.zone,
        evidence_ts=record.evidence_ts,
        box=tuple(record.box) if record.box else None,
    )


def backfill_clips(
    site: SiteConfig,
    engine: Engine,
    work_dir: Path,
    progress: Callable[[EventRecord, dict[str, object]], None] | None = None,
) -> BackfillResult:
    """Cut the missing clips of stored events; one short transaction per event."""
    t0 = time.perf_counter()
    out = BackfillResult()
    todo = units.with_db_retry(engine, lambda s: Store(s).events_without_clip(), "reading events")
    timelines: dict[str, ObservationTimeline] = {}
    for record in todo:
        video = record.video
        try:
            camera = site.branch(record.branch_id).camera(record.camera_id)
        except KeyError:
            out.skipped.append(f"event {record.id}: camera {record.camera_id} not configured")
            continue
        if video is None or not video.timeline_path:
            out.skipped.append(f"event {record.id}: its video has no observation timeline")
            continue
        if video.timeline_path not in timelines:
            timelines[video.timeline_path] = ObservationTimeline.load(Path(video.timeline_path))
        source = EvidenceSource.of_video(video, timelines[video.timeline_path], camera, work_dir)
        if source is None:
            out.skipped.append(f"event {record.id}: its video has no start time")
            continue
        clip = write_event_clip(as_event(record), source, site.evidence)
        out.clips.add(clip.cost)
        units.with_db_retry(
            engine,
            partial(_add_evidence, event_id=record.id, fields=clip.fields),
            f"storing the clip of event {record.id}",
        )
        if progress is not None:
            progress(record, clip.fields)
    out.wall_s = time.perf_counter() - t0
    return out


def _add_evidence(session: Session, *, event_id: int, fields: dict[str, object]) -> None:
    Store(session).add_evidence(event_id, fields)
