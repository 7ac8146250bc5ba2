"""The nightly batch: discover exports, plan one durable unit per file, analyse the units on an
executor (a local process pool or Ray), apply rules, store events idempotently, and summarise.

A run killed at any point and started again with the same command resumes: units already done
are not redone, units left running by a dead driver or worker are redone from scratch, and the
store keeps one copy of every video, timeline and event (see :mod:`api.runs`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.config import BranchConfig, SiteConfig
from api.db.models import Video
from api.db.session import default_db_url, make_engine, upgrade
from api.evidence import write_event_evidence
from api.nightly import after_nightly_run
from api.runs import units
from api.runs.driver import DriveContext, drive
from api.runs.executors import ExecutorKind, default_workers, make_executor
from api.store import Store
from rules.engine import run_rules
from rules.registry import RuleContext, validate_rule_settings
from rules.types import Event
from vision.config import CameraConfig, ClutterConfig, DetectorConfig, Precision, SamplingConfig
from vision.coverage import coverage_gaps
from vision.discovery import CameraRef, discover
from vision.timeline import ObservationTimeline, empty_timeline
from vision.zones import zone_infos

logger = logging.getLogger(__name__)

PIPELINE_FORMAT = "1"
MIN_GAP_S = 20.0
"""Coverage gaps shorter than this are not listed in the summary or the store."""


@dataclass(frozen=True)
class ScanOptions:
    """Where the run stores things and how much it runs in parallel."""

    db_url: str
    work_dir: Path
    workers: int
    executor: ExecutorKind = ExecutorKind.LOCAL
    address: str | None = None
    threads: int = 1

    @classmethod
    def build(
        cls,
        db_url: str | None,
        work_dir: Path | None,
        workers: int,
        executor: ExecutorKind | str = ExecutorKind.LOCAL,
        address: str | None = None,
        threads: int = 1,
    ) -> ScanOptions:
        """Options with defaults filled in (database from the environment, work dir next to it).

        ``workers`` 0 means as many as the cores hold (local) or the cluster's CPUs hold (Ray),
        each worker taking ``threads`` cores for inference.
        """
        if threads < 1:
            raise ValueError(f"threads per worker must be at least 1, not {threads}")
        url = db_url or default_db_url()
        if work_dir is None:
            db_path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
            work_dir = (
                Path(db_path).resolve().parent / "branchwatch-data"
                if db_path
                else Path.cwd() / "branchwatch-data"
            )
        kind = ExecutorKind(executor)
        if address is not None and kind is not ExecutorKind.RAY:
            raise ValueError("--address needs --executor ray")
        if kind is ExecutorKind.LOCAL:
            workers = workers or default_workers(threads)
        return cls(
            db_url=url,
            work_dir=work_dir,
            workers=workers,
            executor=kind,
            address=address,
            threads=threads,
        )


@dataclass
class FileOutcome:
    """What became of one export file in this run."""

    path: str
    branch: str | None
    camera: str | None
    status: str  # done | skipped | failed | rejected
    reason: str = ""
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScanSummary:
    files: list[FileOutcome] = field(default_factory=list)
    events_new: int = 0
    events_by_item: dict[str, int] = field(default_factory=dict)
    gaps: list[tuple[str, str, datetime, datetime]] = field(default_factory=list)
    footage_s: float = 0.0
    wall_s: float = 0.0

    @property
    def x_realtime(self) -> float:
        return self.footage_s / self.wall_s if self.wall_s > 0 else 0.0


def summary_exit_code(summary: ScanSummary) -> int:
    """Non-zero only when there was input and none of it could be processed."""
    if not summary.files:
        return 1
    ok = sum(1 for f in summary.files if f.status in ("done", "skipped"))
    return 0 if ok else 1


def pipeline_version(
    detector: DetectorConfig, sampling: SamplingConfig, clutter: ClutterConfig
) -> str:
    """Identifies everything that changes observations; a file is re-analysed when it changes."""
    raw = "|".join(
        [
            PIPELINE_FORMAT,
            detector.model,
            detector.object_model or "",
            clutter.model_dump_json(),
            detector.backend.value,
            detector.precision.value,
            detector.device,
            str(detector.imgsz),
            f"{detector.confidence:.3f}",
            f"{sampling.interval_s:.3f}",
            f"{sampling.motion_threshold:.5f}",
            f"{sampling.max_hold_s:.1f}",
        ]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def camera_version(run_version: str, branch: str, camera: CameraConfig) -> str:
    """The pipeline version of one camera's files: the run's version with what the camera's
    configuration adds to observations (its zones and uniform signatures), so redrawing a zone
    or calibrating a uniform re-analyses that camera's files and no other's."""
    raw = "|".join(
        [run_version, branch, camera.id, camera.model_dump_json(include={"zones", "uniforms"})]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def detector_label(detector: DetectorConfig) -> str:
    """Short name of the model setting stored with each event, e.g. ``yolo11n-pose@640/onnx``."""
    label = f"{detector.model}@{detector.imgsz}/{detector.backend.value}"
    if detector.precision is not Precision.F32:
        label += f"-{detector.precision.value}"
    return label if detector.device == "cpu" else f"{label}@{detector.device}"


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def camera_refs(site: SiteConfig) -> list[CameraRef]:
    single = len(site.branches) == 1
    return [
        CameraRef(
            branch=b.id,
            camera=c.id,
            token=c.token,
            folder=None if single else (b.folder or b.id),
            tz=b.tz,
        )
        for b in site.branches
        for c in b.cameras
    ]


# --- driver --------------------------------------------------------------------------------


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
    rule_params = validate_rule_settings(site.rules)
    version = pipeline_version(site.detector, site.sampling, site.clutter)
    detector_version = detector_label(site.detector)
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
        return store.start_run(str(config_path), version)

    run_id = units.with_db_retry(engine, start, "starting the run")
    versions = {
        (b.id, c.id): camera_version(version, b.id, c) for b in site.branches for c in b.cameras
    }
    planned = [
        units.PlannedFile(
            path=str(f.path),
            sha256=file_sha256(f.path),
            size=f.path.stat().st_size,
            branch=f.branch,
            camera=f.camera,
            start=f.start,
            end=f.end,
            version=versions[(f.branch, f.camera)],
        )
        for f in found.files
    ]
    unit_ids = units.plan_units(engine, planned, run_id)
    before = {u.id: u.state for u in units.load_units(engine, unit_ids)}
    open_s = sum(
        (p.end - p.start).total_seconds()
        for p, uid in zip(planned, unit_ids, strict=True)
        if p.end is not None and before[uid] not in units.TERMINAL
    )
    if any(state not in units.TERMINAL for state in before.values()):
        executor = make_executor(
            options.executor, site, options.workers, options.address, options.threads
        )
        try:
            executor.start()
            ctx = DriveContext(engine, run_id, options.work_dir, units.owner_id())
            driven = drive(ctx, executor, unit_ids, open_s, console)
        finally:
            executor.close()
        summary.footage_s = driven.footage_s
    else:
        driven = None
    mine = {r.unit_id: r for r in driven.reports} if driven else {}
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
        summary.files.append(
            FileOutcome(unit.path, unit.branch_id, unit.camera_id, status, reason, stats)
        )
    days_by_branch: dict[str, set[date]] = defaultdict(set)
    for unit in units.load_units(engine, unit_ids):
        if unit.state == units.UnitState.DONE.value:
            days_by_branch[unit.branch_id].add(
                unit.start_ts.astimezone(site.branch(unit.branch_id).tz).date()
            )
    if days_by_branch:
        _apply_rules(
            site,
            engine,
            run_id,
            versions,
            detector_version,
            days_by_branch,
            rule_params,
            options,
            summary,
        )

    summary.wall_s = time.perf_counter() - t0

    def finish(session: Session) -> None:
        Store(session).finish_run(
            run_id,
            "done" if summary_exit_code(summary) == 0 else "failed",
            {
                "x_realtime": round(summary.x_realtime, 2),
                "events_new": summary.events_new,
                "files": len(summary.files),
                "executor": options.executor.value,
            },
        )

    units.with_db_retry(engine, finish, "finishing the run")
    after_nightly_run(engine, run_id, summary_exit_code(summary) == 0, summary.events_new)
    engine.dispose()
    print_summary(summary, console)
    return summary


def _apply_rules(
    site: SiteConfig,
    engine: Engine,
    run_id: int,
    versions: dict[tuple[str, str], str],
    detector_version: str,
    days_by_branch: dict[str, set[date]],
    rule_params: dict[str, Any],
    options: ScanOptions,
    summary: ScanSummary,
) -> None:
    """Run the rules over every camera of the given branch-days; one transaction per camera."""
    for branch in site.branches:
        days = sorted(days_by_branch.get(branch.id, ()))
        if not days:
            continue
        tz = branch.tz
        current = {versions[(branch.id, c.id)] for c in branch.cameras}
        stored = units.with_db_retry(
            engine, partial(_done_videos, branch=branch.id, versions=current), "reading videos"
        )
        videos = [v for v in stored if v.start_ts and v.start_ts.astimezone(tz).date() in days]
        window_start = datetime.combine(days[0], datetime.min.time(), tz)
        window_end = datetime.combine(days[-1], datetime.min.time(), tz) + timedelta(days=1)
        by_camera: dict[str, list[Any]] = defaultdict(list)
        for v in videos:
            if v.camera_id and v.timeline_path:
                by_camera[v.camera_id].append(v)
        for camera in branch.cameras:
            parts = [
                ObservationTimeline.load(Path(v.timeline_path))
                for v in by_camera.get(camera.id, [])
            ]
            if parts:
                timeline = ObservationTimeline.concat(parts)
            else:
                timeline = empty_timeline(
                    branch.id,
                    camera.id,
                    zone_infos(camera),
                    ts=_no_samples(),
                    coverage=_no_samples().reshape(0, 2),
                )
            ctx = RuleContext(
                branch=branch.id,
                camera=camera.id,
                tz=tz,
                hours=branch.hours,
                interval_s=site.sampling.interval_s,
                window=(window_start.timestamp(), window_end.timestamp()),
            )
            events = run_rules(timeline, ctx, rule_params)
            gaps = coverage_gaps_for(timeline, branch, days, MIN_GAP_S)
            summary.gaps.extend((branch.id, camera.id, s, e) for s, e in gaps)

            work = partial(
                _store_camera,
                camera=camera,
                tz=tz,
                days=days,
                gaps=gaps,
                events=events,
                videos=by_camera.get(camera.id, []),
                timeline=timeline,
                detector_version=detector_version,
                run_id=run_id,
                options=options,
            )
            new = units.with_db_retry(engine, work, f"storing events of {branch.id}/{camera.id}")
            summary.events_new += len(new)
            for event in new:
                summary.events_by_item[event.item] = summary.events_by_item.get(event.item, 0) + 1


def _done_videos(session: Session, *, branch: str, versions: set[str]) -> list[Video]:
    return Store(session).done_videos(branch, versions)


def coverage_gaps_for(
    timeline: ObservationTimeline, branch: BranchConfig, days: list[date], min_gap_s: float
) -> list[tuple[datetime, datetime]]:
    """Business hours of the given days that the timeline's footage does not cover."""
    tz = branch.tz
    key = (branch.id, timeline.camera)
    opens = [iv for day in days for iv in branch.hours.intervals(day, tz)]
    covered = [
        (datetime.fromtimestamp(s, tz), datetime.fromtimestamp(e, tz)) for s, e in timeline.coverage
    ]
    gaps = coverage_gaps({key: covered}, {key: opens}, min_gap_s=min_gap_s)
    return [(g.start, g.end) for g in gaps]


def _no_samples() -> Any:
    import numpy as np

    return np.zeros(0, np.float64)


def _store_camera(
    session: Session,
    *,
    camera: CameraConfig,
    tz: tzinfo,
    days: list[date],
    gaps: list[tuple[datetime, datetime]],
    events: list[Event],
    videos: list[Any],
    timeline: ObservationTimeline,
    detector_version: str,
    run_id: int,
    options: ScanOptions,
) -> list[Event]:
    """One camera's coverage gaps and new events, in the caller's transaction."""
    store = Store(session)
    for day in days:
        store.replace_coverage_gaps(
            timeline.branch,
            camera.id,
            day.isoformat(),
            [(s, e) for s, e in gaps if s.astimezone(tz).date() == day],
        )
    return _store_events(store, events, videos, timeline, camera, detector_version, run_id, options)


def _store_events(
    store: Store,
    events: list[Event],
    videos: list[Any],
    timeline: ObservationTimeline,
    camera: CameraConfig,
    detector_version: str,
    run_id: int,
    options: ScanOptions,
) -> list[Event]:
    """Store the events not stored yet, with their evidence; returns the new ones."""
    fresh = store.unknown_event_keys([e.key for e in events])
    new: list[Event] = []
    for event in events:
        if event.key not in fresh:
            continue
        video = _video_at(videos, event.evidence_ts or event.start)
        evidence = (
            write_event_evidence(event, video, timeline, camera, options.work_dir)
            if video is not None
            else {}
        )
        if store.add_events(
            [event],
            detector_version=detector_version,
            video_id=video.id if video is not None else None,
            run_id=run_id,
            evidence={event.key: evidence} if evidence else None,
        ):
            new.append(event)
    return new


def _video_at(videos: list[Any], ts: datetime) -> Any:
    for v in videos:
        if v.start_ts and v.end_ts and v.start_ts <= ts <= v.end_ts:
            return v
    return None


def print_summary(summary: ScanSummary, console: Console) -> None:
    table = Table(title="scan summary", show_lines=False)
    for col in ("file", "camera", "status", "footage s", "x-realtime", "note"):
        table.add_column(col, overflow="fold")
    for f in summary.files:
        table.add_row(
            Path(f.path).name,
            f"{f.branch or '-'}/{f.camera or '-'}",
            f.status,
            f"{f.stats.get('duration_s', 0):.0f}" if f.stats else "-",
            f"{f.stats.get('x_realtime', 0):.1f}" if f.stats else "-",
            f.reason or "; ".join(f.stats.get("notes", [])) if f.stats else f.reason,
        )
    console.print(table)
    for branch, camera, start, end in summary.gaps:
        console.print(
            f"missing footage {branch}/{camera}: {start:%Y-%m-%d %H:%M:%S} – {end:%H:%M:%S}"
        )
    counts = ", ".join(f"{k}={v}" for k, v in sorted(summary.events_by_item.items())) or "none"
    console.print(
        f"new events: {summary.events_new} ({counts}); footage {summary.footage_s:.0f} s in "
        f"{summary.wall_s:.1f} s = {summary.x_realtime:.1f}× realtime"
    )
