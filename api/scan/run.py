"""The nightly scan, stage by stage: plan the files, analyse them on an executor, judge, record.

``run_scan`` follows the data through the package: options (:mod:`.options`) → which files and
pipeline versions (:mod:`.plan`, durable units in :mod:`.units`) → per-unit analysis in workers
(:mod:`.worker`, driven by :mod:`.driver` on an executor of :mod:`.executors`) → rules over
each camera's timelines (:mod:`.judge`) → gaps, events and their evidence stored
(:mod:`.record`, :mod:`.evidence`) → the summary (:mod:`.summary`).

A run killed at any point and started again with the same command resumes: units already done
are not redone, units left running by a dead driver or worker are redone from scratch, and the
store keeps one copy of every video, timeline, event and evidence file.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.config import SiteConfig
from api.db.models import Video
from api.db.session import make_engine, upgrade
from api.scan import units
from api.scan.driver import DriveContext, DriveResult, drive
from api.scan.executors import make_executor
from api.scan.judge import BranchDays, judge_branch
from api.scan.options import ScanOptions
from api.scan.plan import (
    camera_refs,
    camera_versions,
    detector_label,
    pipeline_version,
    planned_files,
)
from api.scan.record import RecordContext, record_camera
from api.scan.summary import FileOutcome, ScanSummary, print_summary, summary_exit_code
from api.store import Store
from vision.discovery import discover

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Run:
    """One scan in progress: its configuration, options, store and run id."""

    site: SiteConfig
    options: ScanOptions
    engine: Engine
    run_id: int
    versions: dict[tuple[str, str], str]


def run_scan(
    site: SiteConfig,
    config_path: Path,
    paths: Sequence[Path],
    options: ScanOptions,
    console: Console | None = None,
) -> ScanSummary:
    """Scan export files into the store; see the module docstring."""
    console = console or Console(stderr=True)
    t0 = time.perf_counter()
    summary = ScanSummary()
    versions = camera_versions(site)
    options.work_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(options.db_url)
    upgrade(engine)

    found = discover(list(paths), site.naming, camera_refs(site))
    for rej in found.rejected:
        summary.files.append(FileOutcome(str(rej.path), None, None, "rejected", rej.reason))
        logger.warning("rejected %s: %s", rej.path, rej.reason)

    def start(session: Session) -> int:
        store = Store(session)
        store.sync_site(site)
        return store.start_run(
            str(config_path), pipeline_version(site.detector, site.sampling, site.clutter)
        )

    run = _Run(
        site, options, engine, units.with_db_retry(engine, start, "starting the run"), versions
    )
    unit_ids = units.plan_units(engine, planned_files(found, versions), run.run_id)
    before = {u.id: u.state for u in units.load_units(engine, unit_ids)}
    driven = _analyse(run, unit_ids, before, console)
    summary.footage_s = driven.footage_s if driven else 0.0
    summary.files += _file_outcomes(engine, unit_ids, before, driven)
    _judge_and_record(run, unit_ids, summary)
    summary.wall_s = time.perf_counter() - t0

    def finish(session: Session) -> None:
        Store(session).finish_run(
            run.run_id,
            "done" if summary_exit_code(summary) == 0 else "failed",
            {
                "x_realtime": round(summary.x_realtime, 2),
                "events_new": summary.events_new,
                "files": len(summary.files),
                "executor": options.executor.value,
                "clips_written": summary.clips.written,
                "clip_s": round(summary.clips.seconds, 2),
            },
        )

    units.with_db_retry(engine, finish, "finishing the run")
    engine.dispose()
    print_summary(summary, console)
    return summary


def _analyse(
    run: _Run, unit_ids: list[int], before: dict[int, str], console: Console
) -> DriveResult | None:
    """Analyse the open units on the chosen executor; ``None`` when every unit was finished."""
    if all(state in units.TERMINAL for state in before.values()):
        return None
    planned = units.load_units(run.engine, unit_ids)
    open_s = sum(
        (u.end_ts - u.start_ts).total_seconds()
        for u in planned
        if u.end_ts is not None and before[u.id] not in units.TERMINAL
    )
    o = run.options
    executor = make_executor(o.executor, run.site, o.workers, o.address, o.threads)
    try:
        executor.start()
        ctx = DriveContext(run.engine, run.run_id, o.work_dir, units.owner_id())
        return drive(ctx, executor, unit_ids, open_s, console)
    finally:
        executor.close()


def _file_outcomes(
    engine: Engine, unit_ids: list[int], before: dict[int, str], driven: DriveResult | None
) -> list[FileOutcome]:
    """What became of each planned file: analysed now, earlier, failed, or by another driver."""
    mine = {r.unit_id: r for r in driven.reports} if driven else {}
    out: list[FileOutcome] = []
    for unit in units.load_units(engine, unit_ids):
        report = mine.get(unit.id)
        if report is not None:
            status, reason, stats = report.status, report.reason, report.stats
        elif before[unit.id] == units.UnitState.DONE.value:
            status, reason, stats = "skipped", "already analysed", {}
        elif before[unit.id] == units.UnitState.FAILED.value:
            status, reason, stats = "failed", f"{unit.reason} (earlier run; not retried)", {}
        else:
            status, reason, stats = unit.state, unit.reason or "finished by another driver", {}
        out.append(FileOutcome(unit.path, unit.branch_id, unit.camera_id, status, reason, stats))
    return out


def _judge_and_record(run: _Run, unit_ids: list[int], summary: ScanSummary) -> None:
    """Rules over every camera of the branch-days with analysed files; one store call each."""
    days_by_branch: dict[str, set[date]] = defaultdict(set)
    for unit in units.load_units(run.engine, unit_ids):
        if unit.state == units.UnitState.DONE.value:
            tz = run.site.branch(unit.branch_id).tz
            days_by_branch[unit.branch_id].add(unit.start_ts.astimezone(tz).date())
    ctx = RecordContext(
        run.engine,
        run.run_id,
        run.options.work_dir,
        detector_label(run.site.detector),
        run.site.evidence,
    )
    for branch in run.site.branches:
        days = sorted(days_by_branch.get(branch.id, ()))
        if not days:
            continue
        current = {run.versions[(branch.id, c.id)] for c in branch.cameras}
        stored = units.with_db_retry(
            run.engine, partial(_done_videos, branch=branch.id, versions=current), "reading videos"
        )
        videos = [
            v for v in stored if v.start_ts and v.start_ts.astimezone(branch.tz).date() in days
        ]
        for verdict in judge_branch(run.site, BranchDays(branch, days, videos)):
            summary.gaps.extend((branch.id, verdict.camera.id, s, e) for s, e in verdict.gaps)
            recorded = record_camera(ctx, verdict)
            summary.clips.add(recorded.clips)
            summary.events_new += len(recorded.events)
            for event in recorded.events:
                summary.events_by_item[event.item] = summary.events_by_item.get(event.item, 0) + 1


def _done_videos(session: Session, *, branch: str, versions: set[str]) -> list[Video]:
    return Store(session).done_videos(branch, versions)
