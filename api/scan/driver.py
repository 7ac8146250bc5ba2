"""The driver loop: claim units, hand them to an executor, commit each result in one transaction.

The driver keeps every executor slot busy with a claimed unit, heart-beats its claims, and
commits each result (timeline file written first, then the video row and the unit's new state
in one transaction, retried when the connection drops). It returns when every unit of the plan
is done or failed, whichever driver finished it: units other drivers hold are waited for, and
taken over if their owner dies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.scan import units
from api.scan.worker import Executor, Outcome, UnitJob, UnitResult
from api.store import Store, VideoStatus
from vision.reference import ReferenceError, ReferenceStore

logger = logging.getLogger(__name__)

POLL_S = 1.0
"""How long the driver waits for a result before it looks for claimable units again."""
HEARTBEAT_S = 15.0
"""Seconds between heartbeats of this driver's claims."""
REFERENCES_DIR = "references"
"""Folder under the work folder holding the clean stills (``branchwatch reference set``)."""


def references_root(work_dir: Path) -> Path:
    """Where the clean reference stills of a work folder live."""
    return work_dir / REFERENCES_DIR


@dataclass(frozen=True, slots=True)
class UnitReport:
    """What became of one unit in this run."""

    unit_id: int
    path: str
    branch: str
    camera: str
    status: str  # done | failed
    reason: str
    stats: dict[str, Any]


@dataclass
class DriveResult:
    """Units this driver finished, with their footage seconds."""

    reports: list[UnitReport] = field(default_factory=list)
    footage_s: float = 0.0
    retried: int = 0


class RunProgress:
    """Units, camera-hours, x-realtime and ETA of the run, in the terminal."""

    def __init__(self, console: Console, total_units: int, total_s: float) -> None:
        self.total_s = max(total_s, 1.0)
        self.t0 = time.perf_counter()
        self.progress = Progress(
            TextColumn("[bold]scan"),
            BarColumn(),
            TextColumn("{task.fields[units]} units"),
            TextColumn("{task.fields[hours]} camera-h"),
            TextColumn("{task.fields[speed]}× realtime"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.total_units = total_units
        self.task: TaskID = self.progress.add_task(
            "scan",
            total=self.total_s,
            units=f"0/{total_units}",
            hours=f"0.00/{self.total_s / 3600:.2f}",
            speed="-",
        )

    def update(self, units_done: int, footage_s: float) -> None:
        wall = time.perf_counter() - self.t0
        self.progress.update(
            self.task,
            completed=min(footage_s, self.total_s),
            units=f"{units_done}/{self.total_units}",
            hours=f"{footage_s / 3600:.2f}/{self.total_s / 3600:.2f}",
            speed=f"{footage_s / wall:.1f}" if wall > 0 else "-",
        )


def _write_timeline(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def timeline_path(work_dir: Path, version: str, sha256: str) -> Path:
    """Where the observation timeline of a file is kept (one per content hash and version)."""
    return work_dir / "timelines" / version / f"{sha256}.npz"


@dataclass(frozen=True, slots=True)
class DriveContext:
    """What the driver needs besides the executor."""

    engine: Engine
    run_id: int
    work_dir: Path
    owner: str


def _commit(ctx: DriveContext, claim: units.Claim, result: UnitResult) -> UnitReport | None:
    """Store one unit's outcome in one transaction; ``None`` if it will be retried or was lost."""
    stats = result.stats
    path = timeline_path(ctx.work_dir, claim.version, claim.sha256)
    if result.outcome is Outcome.OK:
        _write_timeline(path, result.timeline)
    tz = claim.start.tzinfo
    end = (
        datetime.fromtimestamp(stats["last_ts"], tz)
        if stats.get("last_ts") is not None
        else claim.end
    )

    def work(session: Session) -> UnitReport | None:
        unit = units.owns(session, claim.unit_id, ctx.owner)
        if unit is None:
            return None
        if result.outcome is Outcome.ERROR and not units.mark_failed(
            unit, result.reason, bad_input=False, run_id=ctx.run_id
        ):
            return None
        ok = result.outcome is Outcome.OK
        video = Store(session).record_video(
            path=claim.path,
            sha256=claim.sha256,
            size=claim.size,
            pipeline_version=claim.version,
            branch=claim.branch,
            camera=claim.camera,
            start=claim.start,
            end=end if ok else claim.end,
            status=VideoStatus.DONE if ok else VideoStatus.FAILED,
            error=None if ok else result.reason,
            run_id=ctx.run_id,
            timeline_path=str(path) if ok else None,
            stats=stats,
        )
        if ok:
            units.mark_done(unit, video.id, ctx.run_id)
        elif result.outcome is Outcome.BAD_INPUT:
            units.mark_failed(unit, result.reason, bad_input=True, run_id=ctx.run_id)
        unit.video_id = video.id
        return UnitReport(
            claim.unit_id,
            claim.path,
            claim.branch,
            claim.camera,
            "done" if ok else "failed",
            result.reason,
            dict(stats),
        )

    return units.with_db_retry(ctx.engine, work, f"committing unit {claim.unit_id}")


def drive(
    ctx: DriveContext,
    executor: Executor,
    unit_ids: Sequence[int],
    total_footage_s: float,
    console: Console,
) -> DriveResult:
    """Run every open unit of ``unit_ids`` through ``executor`` and commit the results.

    Args:
        ctx: Store, run and where timelines go.
        executor: Started executor.
        unit_ids: The plan.
        total_footage_s: Footage of the open units, for progress and ETA.
        console: Terminal for the progress display.

    Returns:
        The units this driver finished.
    """
    out = DriveResult()
    in_flight: dict[int, units.Claim] = {}
    progress = RunProgress(console, units.open_units(ctx.engine, unit_ids), total_footage_s)
    last_beat = time.monotonic()
    stills = ReferenceStore(references_root(ctx.work_dir))
    finished: list[UnitResult] = []  # results not from the executor (a bad reference still)
    with progress.progress:
        while True:
            while len(in_flight) < executor.slots:
                claim = units.claim_unit(ctx.engine, unit_ids, ctx.owner)
                if claim is None:
                    break
                logger.info("unit %d: %s (attempt %d)", claim.unit_id, claim.path, claim.attempt)
                in_flight[claim.unit_id] = claim
                try:
                    reference = stills.load(claim.branch, claim.camera)
                except ReferenceError as exc:  # the unit fails with the reason; others go on
                    finished.append(
                        UnitResult(claim.unit_id, Outcome.BAD_INPUT, f"clean reference: {exc}")
                    )
                    continue
                executor.submit(
                    UnitJob(
                        claim.unit_id,
                        claim.path,
                        claim.branch,
                        claim.camera,
                        claim.start,
                        reference,
                    )
                )
            if not in_flight:
                if units.open_units(ctx.engine, unit_ids) == 0:
                    return out
                time.sleep(POLL_S)  # units held by other drivers, or waiting for a retry
                continue
            finished += executor.results(0.0 if finished else POLL_S)
            results, finished = finished, []
            for result in results:
                claim = in_flight.pop(result.unit_id)
                report = _commit(ctx, claim, result)
                if report is None:
                    out.retried += 1
                    continue
                out.reports.append(report)
                if report.status == "done":
                    out.footage_s += float(report.stats.get("duration_s", 0.0))
                else:
                    logger.error("unit %d failed: %s", report.unit_id, report.reason)
                progress.update(len(out.reports), out.footage_s)
            if time.monotonic() - last_beat > HEARTBEAT_S:
                units.heartbeat(ctx.engine, list(in_flight), ctx.owner)
                last_beat = time.monotonic()
