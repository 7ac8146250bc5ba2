"""Judge: the rules over the stored observation timelines of each camera of the scanned days.

For every camera of a branch with newly analysed days, the timelines of its analysed videos are
joined, the rules run over them (:func:`rules.engine.run_rules`), and the business hours the
footage does not cover are listed. Nothing is stored here (see :mod:`api.scan.record`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from api.config import BranchConfig, SiteConfig
from api.db.models import Video
from rules.engine import run_rules
from rules.registry import RuleContext, RuleParams
from rules.types import Event
from vision.config import CameraConfig
from vision.coverage import coverage_gaps
from vision.timeline import ObservationTimeline, empty_timeline
from vision.zones import zone_infos

MIN_GAP_S = 20.0
"""Coverage gaps shorter than this are not listed in the summary or the store."""


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


def judge_branch(
    site: SiteConfig, scope: BranchDays, rule_params: dict[str, RuleParams]
) -> Iterator[CameraVerdict]:
    """Run the rules over every camera of one branch's scanned days."""
    branch, days = scope.branch, scope.days
    tz = branch.tz
    window_start = datetime.combine(days[0], datetime.min.time(), tz)
    window_end = datetime.combine(days[-1], datetime.min.time(), tz) + timedelta(days=1)
    by_camera: dict[str, list[Video]] = defaultdict(list)
    for v in scope.videos:
        if v.camera_id and v.timeline_path:
            by_camera[v.camera_id].append(v)
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
        )
        yield CameraVerdict(
            branch=branch,
            camera=camera,
            days=days,
            timeline=timeline,
            events=run_rules(timeline, ctx, rule_params),
            gaps=coverage_gaps_for(timeline, branch, days, MIN_GAP_S),
            videos=videos,
        )


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
