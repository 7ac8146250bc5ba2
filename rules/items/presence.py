"""Who is (not) where: lobby manager on duty, windows staffed, crowding, morning meeting."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from pydantic import Field

from rules.items.base import (
    STAFF_ROLES,
    RoleName,
    TimedParams,
    ZoneKindName,
    build_events,
    epoch_to_dt,
    role_codes,
    zone_ids,
)
from rules.registry import RuleContext, RuleParams, register
from rules.timeseries import (
    JOIN_FACTOR,
    coverage_segments,
    find_runs,
    hold_forward,
    looked_at,
    uncovered,
)
from rules.types import Event
from vision.timeline import ObservationTimeline
from vision.types import Role

logger = logging.getLogger(__name__)

ABSENT_VERSION = "2"


class LobbyManagerAbsentParams(TimedParams):
    """LOBBY_MANAGER_ABSENT: nobody on lobby duty for longer than a grace period."""

    grace_s: float = Field(
        default=300.0,
        ge=0.0,
        le=14_400.0,
        description="Absence allowed before it is a finding (seconds). It decides whether an "
        "absence is a finding; the event still runs from the start of the absence to its end.",
    )
    zones: tuple[ZoneKindName, ...] = Field(
        default=("lobby_manager_post", "lobby"),
        min_length=1,
        description="Zone kinds where the lobby manager counts as on duty.",
    )
    roles: tuple[RoleName, ...] = Field(
        default=("lobby_manager",),
        min_length=1,
        description="Roles that count as the lobby manager.",
    )
    any_staff: bool = Field(
        default=False, description="Any staff member (teller, lobby manager, guard) counts."
    )
    unknown_at_post: bool = Field(
        default=True,
        description="A person of unknown role inside a lobby_manager_post zone counts (for "
        "cameras whose roles could not be told apart).",
    )
    merge_gap_s: float = Field(
        default=10.0,
        ge=0.0,
        le=3_600.0,
        description="A presence shorter than this (seconds) does not end an absence (guards "
        "against one-sample false detections).",
    )
    min_duration_s: float = Field(
        default=0.0,
        ge=0.0,
        le=86_400.0,
        description="Shortest absence beyond the grace period that is reported (seconds).",
    )
    cooldown_s: float = Field(
        default=0.0,
        ge=0.0,
        le=86_400.0,
        description="Minimum time between two absence findings (seconds).",
    )


def _present_mask(
    timeline: ObservationTimeline, params: LobbyManagerAbsentParams
) -> npt.NDArray[np.bool_]:
    roles = STAFF_ROLES if params.any_staff else params.roles
    person = timeline.people_in(*params.zones) & np.isin(timeline.role, role_codes(roles))
    if params.unknown_at_post:
        person |= timeline.people_in("lobby_manager_post") & (timeline.role == int(Role.UNKNOWN))
    return person


@register("LOBBY_MANAGER_ABSENT", LobbyManagerAbsentParams, ABSENT_VERSION)
def lobby_manager_absent(
    timeline: ObservationTimeline, ctx: RuleContext, params: LobbyManagerAbsentParams
) -> list[Event]:
    """No lobby manager in the lobby zones for longer than ``grace_s`` in business hours.

    Only looked-at time counts: a coverage gap ends an absence, and samples held by the
    motion gate repeat the last observation. The event is the observed absence, from its
    start to its end; ``details`` keeps the grace period and the moment it ran out.
    """
    cols = timeline.zone_indices(*params.zones)
    if len(cols) == 0:
        return []
    present = timeline.count_per_sample(_present_mask(timeline, params)) > 0
    present = hold_forward(present, timeline.inferred)
    looked, segment, seg_end = looked_at(timeline, ctx)
    # Present stretches shorter than merge_gap_s are bridged by find_runs.
    runs = find_runs(
        timeline.ts,
        ~present & looked,
        segment,
        seg_end,
        interval_s=ctx.interval_s,
        merge_gap_s=params.merge_gap_s,
    )
    runs = runs.select(runs.duration > params.grace_s + params.min_duration_s)
    return build_events(
        "LOBBY_MANAGER_ABSENT",
        ABSENT_VERSION,
        timeline,
        ctx,
        runs,
        cooldown_s=params.cooldown_s,
        zone=zone_ids(timeline, timeline.zone_indices("lobby_manager_post"))
        or zone_ids(timeline, cols),
        details={"grace_s": params.grace_s},
        run_details=[
            {"grace_ended": epoch_to_dt(float(t) + params.grace_s, ctx).isoformat()}
            for t in runs.start
        ],
    )


MEETING_VERSION = "1"


class MorningMeetingParams(RuleParams):
    """MORNING_MEETING: staff should gather for the morning meeting (晨会) before opening."""

    min_people: int = Field(
        default=3, ge=2, le=50, description="People who must stand together for a meeting."
    )
    roles: tuple[RoleName, ...] = Field(
        default=("teller", "lobby_manager", "guard", "unknown"),
        min_length=1,
        description="Roles counted (before opening, unknown people are staff).",
    )
    gather_radius: float = Field(
        default=0.25,
        gt=0.0,
        le=1.5,
        description="Largest distance (fraction of the frame) from the group's centre.",
    )
    before_open_s: float = Field(
        default=3600.0,
        gt=0.0,
        le=6 * 3600.0,
        description="How long before opening the meeting is looked for (seconds).",
    )
    min_duration_s: float = Field(
        default=300.0, ge=0.0, le=7200.0, description="Shortest gathering that is a meeting."
    )
    merge_gap_s: float = Field(
        default=30.0, ge=0.0, le=3600.0, description="Interruptions that do not split a meeting."
    )
    min_coverage: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="Fraction of the pre-opening window that must be on footage to judge; "
        "with less, no finding (not looked at is not missing).",
    )


def _gathered(
    timeline: ObservationTimeline, rows: npt.NDArray[np.bool_], radius: float
) -> npt.NDArray[np.int32]:
    """Per sample: the number of selected people within ``radius`` of their mean centre."""
    n_t = timeline.num_samples
    box = timeline.xyxy[rows].astype(np.float64)
    s = timeline.sample[rows]
    cx, cy = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    n = np.bincount(s, minlength=n_t).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.bincount(s, cx, minlength=n_t) / n
        my = np.bincount(s, cy, minlength=n_t) / n
    near = np.hypot(cx - mx[s], cy - my[s]) <= radius
    return np.bincount(s[near], minlength=n_t).astype(np.int32)


@register("MORNING_MEETING", MorningMeetingParams, MEETING_VERSION)
def morning_meeting(
    timeline: ObservationTimeline, ctx: RuleContext, params: MorningMeetingParams
) -> list[Event]:
    """A business day whose pre-opening footage shows no morning meeting.

    For each open day, the ``before_open_s`` before the first opening time are searched for
    ``min_people`` staff standing together for ``min_duration_s``. Days whose window is not
    mostly on footage (``min_coverage``) are skipped: not looked at is not missing.
    """
    if timeline.num_samples == 0:
        return []
    segment, seg_end = coverage_segments(
        timeline.coverage, timeline.ts, JOIN_FACTOR * ctx.interval_s
    )
    rows = np.isin(timeline.role, role_codes(params.roles))
    group = hold_forward(_gathered(timeline, rows, params.gather_radius), timeline.inferred)
    day = datetime.fromtimestamp(float(timeline.ts[0]), ctx.tz).date()
    last = datetime.fromtimestamp(float(timeline.ts[-1]), ctx.tz).date()
    events: list[Event] = []
    while day <= last:
        opening = ctx.hours.intervals(day, ctx.tz)
        day += timedelta(days=1)
        if not opening:
            continue
        hi = opening[0][0].timestamp()
        lo = hi - params.before_open_s
        seen = uncovered(np.array([[lo, hi]]), timeline.coverage)
        covered = 1.0 - float((seen[:, 1] - seen[:, 0]).sum()) / (hi - lo)
        if covered < params.min_coverage:
            continue
        inside = (timeline.ts >= lo) & (timeline.ts < hi)
        runs = find_runs(
            timeline.ts,
            inside & (group >= params.min_people),
            segment,
            np.minimum(seg_end, hi),
            interval_s=ctx.interval_s,
            merge_gap_s=params.merge_gap_s,
        )
        if (runs.duration >= params.min_duration_s).any():
            continue
        events.append(
            Event(
                item="MORNING_MEETING",
                branch=ctx.branch,
                camera=ctx.camera,
                start=epoch_to_dt(lo, ctx),
                end=epoch_to_dt(hi, ctx),
                rule_version=MEETING_VERSION,
                details={
                    "finding": "no morning meeting seen before opening",
                    "largest_group": int(group[inside].max(initial=0)),
                    "longest_gathering_s": round(float(runs.duration.max(initial=0.0)), 1),
                    "covered_fraction": round(covered, 3),
                    "min_people": params.min_people,
                },
                evidence_ts=epoch_to_dt(lo, ctx),
            )
        )
    return events
