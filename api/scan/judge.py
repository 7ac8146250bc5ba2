"""Judge: the rules over the stored observation timelines of each camera of the scanned days.

For every camera of a branch with newly analysed days, the timelines of its analysed videos are
joined, the rules run over them (:func:`rules.engine.run_rules`), and the business hours the
footage does not cover are listed. Nothing is stored here (see :mod:`api.scan.record`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from api.config import BranchConfig, SiteConfig
from api.db.models import Video
from rules.calls import CallLogError, read_call_log
from rules.engine import run_rules
from rules.registry import CallRecord, RuleContext
from rules.types import Event
from vision.config import CameraConfig
from vision.timeline import ObservationTimeline, empty_timeline
from vision.zones import zone_infos

logger = logging.getLogger(__name__)

MISSING_FOOTAGE = "MISSING_FOOTAGE"
"""The item whose findings are the camera's coverage gaps: missing footage is defined once,
by that rule and its ``min_gap_s``, and stored as its events and as the coverage gaps."""


@dataclass(frozen=True)
class BranchDays:
    """The analysed videos of one branch on the days a scan touched."""

    branch: BranchConfig
    days: list[date]
    videos: list[Video]


@dataclass(frozen=True)
class CameraVerdict:
    """What the rules found on one camera over the scanned days."""

    branch: BranchConfig
    camera: CameraConfig
    days: list[date]
    timeline: ObservationTimeline
    events: list[Event]
    gaps: list[tuple[datetime, datetime]]
    videos: list[Video]

    def video_at(self, ts: datetime) -> Video | None:
        """The video that holds ``ts``, if any."""
        for v in self.videos:
            if v.start_ts and v.end_ts and v.start_ts <= ts <= v.end_ts:
                return v
        return None


def judge_branch(site: SiteConfig, scope: BranchDays) -> Iterator[CameraVerdict]:
    """Run the rules over every camera of one branch's scanned days, each camera with its own
    settings (site, then branch, then camera)."""
    branch, days = scope.branch, scope.days
    tz = branch.tz
    window_start = datetime.combine(days[0], datetime.min.time(), tz)
    window_end = datetime.combine(days[-1], datetime.min.time(), tz) + timedelta(days=1)
    by_camera: dict[str, list[Video]] = defaultdict(list)
    for v in scope.videos:
        if v.camera_id and v.timeline_path:
            by_camera[v.camera_id].append(v)
    calls = branch_calls(branch)
    for camera in branch.cameras:
        videos = by_camera.get(camera.id, [])
        timeline = (
            ObservationTimeline.concat(
                [ObservationTimeline.load(Path(v.timeline_path or "")) for v in videos]
            )
            if videos
            else empty_timeline(
                branch.id,
                camera.id,
                zone_infos(camera),
                ts=np.zeros(0, np.float64),
                coverage=np.zeros((0, 2), np.float64),
            )
        )
        ctx = RuleContext(
            branch=branch.id,
            camera=camera.id,
            tz=tz,
            hours=branch.hours,
            interval_s=site.sampling.interval_s,
            window=(window_start.timestamp(), window_end.timestamp()),
            calls=calls,
        )
        events = run_rules(timeline, ctx, site.camera_rules(branch, camera))
        yield CameraVerdict(
            branch=branch,
            camera=camera,
            days=days,
            timeline=timeline,
            events=events,
            gaps=[(e.start, e.end) for e in events if e.item == MISSING_FOOTAGE],
            videos=videos,
        )


def branch_calls(branch: BranchConfig) -> tuple[CallRecord, ...]:
    """The queue machine's calls of a branch from its configured CSV export (a file, or every
    ``*.csv`` of a folder); none when no log is configured, or when it cannot be read (logged
    with the file and line: the branch's other items are judged all the same)."""
    if branch.call_log is None:
        return ()
    where = Path(branch.call_log)
    files = sorted(where.glob("*.csv")) if where.is_dir() else [where]
    calls: list[CallRecord] = []
    for path in files:
        try:
            calls += read_call_log(path, branch.tz)
        except CallLogError as exc:
            logger.error("call log of branch %s not read: %s", branch.id, exc)
    return tuple(sorted(calls, key=lambda c: c.ts))
