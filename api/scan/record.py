"""Record: store each camera's verdict (coverage gaps, new events) with the events' evidence.

Events already stored are left alone, evidence files included, so a re-run rewrites nothing.
The evidence of new events (still and clip, :mod:`api.scan.evidence`) is written before the
transaction that stores them, so a slow cut never holds the database's write lock; an event
whose evidence cannot be made is stored with the named problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.config import EvidenceConfig
from api.scan import units
from api.scan.evidence import ClipCost, EvidenceRecord, EvidenceSource, write_evidence
from api.scan.judge import CameraVerdict
from api.store import Store
from rules.types import Event


@dataclass(frozen=True)
class RecordContext:
    """Where and under which run a scan records its verdicts."""

    engine: Engine
    run_id: int
    work_dir: Path
    detector_version: str
    evidence: EvidenceConfig


@dataclass
class Recorded:
    """The events one camera's verdict added, and the clips cut for them."""

    events: list[Event] = field(default_factory=list)
    clips: ClipCost = field(default_factory=ClipCost)


def record_camera(ctx: RecordContext, verdict: CameraVerdict) -> Recorded:
    """Store one camera's coverage gaps and new events with their evidence."""
    where = f"{verdict.branch.id}/{verdict.camera.id}"
    fresh = units.with_db_retry(
        ctx.engine,
        lambda s: Store(s).unknown_event_keys([e.key for e in verdict.events]),
        f"reading stored events of {where}",
    )
    out = Recorded()
    evidence: dict[str, EvidenceRecord] = {}
    for event in verdict.events:
        if event.key not in fresh:
            continue
        video = verdict.video_at(event.evidence_ts or event.start)
        source = (
            EvidenceSource.of_video(video, verdict.timeline, verdict.camera, ctx.work_dir)
            if video is not None
            else None
        )
        if source is not None:
            evidence[event.key] = write_evidence(event, source, ctx.evidence)
            out.clips.add(evidence[event.key].cost)
    new = units.with_db_retry(
        ctx.engine,
        partial(_store, ctx=ctx, verdict=verdict, fresh=fresh, evidence=evidence),
        f"storing events of {where}",
    )
    out.events = new
    return out


def _store(
    session: Session,
    *,
    ctx: RecordContext,
    verdict: CameraVerdict,
    fresh: set[str],
    evidence: dict[str, EvidenceRecord],
) -> list[Event]:
    """One camera's coverage gaps and new events, in the caller's transaction."""
    store = Store(session)
    tz = verdict.branch.tz
    for day in verdict.days:
        store.replace_coverage_gaps(
            verdict.branch.id,
            verdict.camera.id,
            day.isoformat(),
            [(s, e) for s, e in verdict.gaps if s.astimezone(tz).date() == day],
        )
    new: list[Event] = []
    for event in verdict.events:
        if event.key not in fresh:
            continue
        video = verdict.video_at(event.evidence_ts or event.start)
        record = evidence.get(event.key)
        if store.add_events(
            [event],
            detector_version=ctx.detector_version,
            video_id=video.id if video is not None else None,
            run_id=ctx.run_id,
            evidence={event.key: record.fields} if record is not None and record.fields else None,
        ):
            new.append(event)
    return new
