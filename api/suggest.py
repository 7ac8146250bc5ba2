"""Parameter changes suggested by dismissals, with the effect each would have had.

For an item and camera with dismissed events, the rule's duration parameter (``grace_s`` or
``min_duration_s``) is raised step by step and the rule is re-run over the stored timelines of
the reviewed events' footage. A reviewed event is *kept* under a candidate when an event of
the re-run overlaps it in time. The suggestion is the candidate that drops the most dismissed
events while keeping every confirmed one (else the one with the best balance); its effect is
what was counted, not a guess.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import SiteConfig
from api.db.models import EventRecord, Video
from rules.engine import run_rules
from rules.registry import RuleContext, RuleParams, registered
from rules.types import EventStatus
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)

DURATION_PARAMETERS = ("grace_s", "min_duration_s")
"""Parameters tried, the first one a rule has."""

FACTORS = (1.5, 2.0, 3.0, 4.0, 6.0)
"""Multiples of the current value tried."""


@dataclass(frozen=True, slots=True)
class Effect:
    """What a parameter value does to the reviewed events."""

    value: float
    confirmed_kept: int
    confirmed_lost: int
    dismissed_kept: int
    dismissed_dropped: int


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A parameter change for an item on a camera, with its effect and the current one."""

    item: str
    branch: str
    camera: str
    parameter: str
    current: Effect
    suggested: Effect
    tried: tuple[Effect, ...]

    @property
    def text(self) -> str:
        """中文 one-liner, e.g. ``grace_s 300 → 900:排除的 15 条中 12 条不再报告,确认的 5 条全部
        保留``."""
        s = self.suggested
        kept = (
            f"确认的 {s.confirmed_kept} 条全部保留"
            if s.confirmed_lost == 0
            else f"确认的 {s.confirmed_kept + s.confirmed_lost} 条中 {s.confirmed_lost} 条将漏报"
        )
        dismissed = s.dismissed_kept + s.dismissed_dropped
        return (
            f"{self.parameter} {self.current.value:g} → {s.value:g}:"
            f"排除的 {dismissed} 条中 {s.dismissed_dropped} 条不再报告,{kept}"
        )


def _overlaps(event: EventRecord, found: list[tuple[float, float]]) -> bool:
    start, end = event.start_ts.timestamp(), event.end_ts.timestamp()
    return any(s <= end and e >= start for s, e in found)


def _effect(value: float, reviewed: list[EventRecord], found: list[tuple[float, float]]) -> Effect:
    kept = [e for e in reviewed if _overlaps(e, found)]
    confirmed = [e for e in reviewed if e.status == EventStatus.CONFIRMED.value]
    dismissed = [e for e in reviewed if e.status == EventStatus.DISMISSED.value]
    c_kept = sum(e in kept for e in confirmed)
    d_kept = sum(e in kept for e in dismissed)
    return Effect(value, c_kept, len(confirmed) - c_kept, d_kept, len(dismissed) - d_kept)


@dataclass(frozen=True)
class _Rerun:
    """One camera's stored timeline and rule settings, re-run with one parameter changed."""

    timeline: ObservationTimeline
    ctx: RuleContext
    params: dict[str, RuleParams]
    item: str
    parameter: str

    def effect(self, value: float, reviewed: Sequence[EventRecord]) -> Effect:
        only: dict[str, RuleParams] = {
            code: p.model_copy(update={"enabled": False}) for code, p in self.params.items()
        }
        only[self.item] = self.params[self.item].model_copy(update={self.parameter: value})
        found = [
            (e.start.timestamp(), e.end.timestamp())
            for e in run_rules(self.timeline, self.ctx, only)
            if e.item == self.item
        ]
        return _effect(value, list(reviewed), found)


def suggest(db: Session, site: SiteConfig, item: str) -> list[Suggestion]:
    """Suggestions for one item, per branch and camera with dismissed events.

    Cameras whose footage timelines are gone, or rules without a duration parameter, get none.
    """
    rule = registered().get(item)
    if rule is None:
        return []
    parameter = next((p for p in DURATION_PARAMETERS if p in rule.params.model_fields), None)
    if parameter is None:
        return []
    rows = db.scalars(
        select(EventRecord).where(
            EventRecord.item == item,
            EventRecord.rule_version == rule.version,
            EventRecord.status.in_([EventStatus.CONFIRMED.value, EventStatus.DISMISSED.value]),
        )
    ).all()
    by_camera: dict[tuple[str, str], list[EventRecord]] = defaultdict(list)
    for row in rows:
        by_camera[(row.branch_id, row.camera_id)].append(row)
    out = []
    for (branch_id, camera_id), reviewed in sorted(by_camera.items()):
        if not any(e.status == EventStatus.DISMISSED.value for e in reviewed):
            continue
        try:
            branch = site.branch(branch_id)
            camera = branch.camera(camera_id)
        except KeyError:
            logger.warning("%s/%s is not in the configuration; no suggestion", branch_id, camera_id)
            continue
        video_ids = sorted({e.video_id for e in reviewed if e.video_id is not None})
        videos = db.scalars(select(Video).where(Video.id.in_(video_ids))).all()
        paths = [Path(v.timeline_path) for v in videos if v.timeline_path]
        if not paths or not all(p.is_file() for p in paths):
            logger.warning(
                "%s/%s: stored timelines are missing; no suggestion", branch_id, camera_id
            )
            continue
        timeline = ObservationTimeline.concat([ObservationTimeline.load(p) for p in paths])
        rerun = _Rerun(
            timeline,
            RuleContext(branch_id, camera_id, branch.tz, branch.hours, site.sampling.interval_s),
            site.camera_rules(branch, camera),
            item,
            parameter,
        )
        current = float(getattr(rerun.params[item], parameter))
        now = rerun.effect(current, reviewed)
        tried = tuple(rerun.effect(round(current * f, 1), reviewed) for f in FACTORS)
        safe = [t for t in tried if t.confirmed_lost == 0 and t.dismissed_dropped > 0]
        best = (
            max(safe, key=lambda t: (t.dismissed_dropped, -t.value))
            if safe
            else max(tried, key=lambda t: (t.dismissed_dropped - 2 * t.confirmed_lost, -t.value))
        )
        if best.dismissed_dropped <= now.dismissed_dropped:
            continue
        out.append(Suggestion(item, branch_id, camera_id, parameter, now, best, tried))
    return out
