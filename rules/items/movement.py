"""Patrolling: the lobby manager and the guard should walk the hall, not stand still."""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
from pydantic import Field

from rules.items.base import RoleName, TimedParams, ZoneKindName, build_events, role_codes
from rules.registry import RuleContext, register
from rules.timeseries import Runs, hold_forward, track_order, track_runs
from rules.types import Event
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)

VERSION = "1"


def stationary_rows(
    timeline: ObservationTimeline,
    rows_mask: npt.NDArray[np.bool_],
    radius: float,
    window_s: float,
) -> npt.NDArray[np.bool_]:
    """Per person row: whether the person stayed within ``radius`` around that time.

    Each track's rows are binned into ``window_s`` bins; a bin is stationary when it has at
    least two observations, the box centres in it span at most ``radius`` (fraction of the
    frame) in x and y, and its mean centre moved at most ``radius`` from the previous bin of
    the same track (so a slow drift across the hall is not "still"). A bin with a single
    observation counts when the motion gate held the view in it (nothing moved).

    Args:
        timeline: The camera's timeline.
        rows_mask: Person rows to judge; the others come back ``False``.
        radius: Largest spread and drift of the box centre.
        window_s: Bin length in seconds.

    Returns:
        Boolean mask over all person rows.
    """
    out = np.zeros(len(timeline.sample), bool)
    rows = track_order(timeline, rows_mask)
    if len(rows) == 0:
        return out
    t = timeline.ts[timeline.sample[rows]]
    t0 = float(timeline.ts[0])
    bins = np.floor((t - t0) / window_s).astype(np.int64)
    # A bin in which the motion gate held the view saw nobody move.
    sample_bins = np.floor((timeline.ts - t0) / window_s).astype(np.int64)
    held_bin = np.bincount(sample_bins[~timeline.inferred], minlength=int(bins.max()) + 1) > 0
    tracks = timeline.track_id[rows]
    new = np.ones(len(rows), bool)
    new[1:] = (tracks[1:] != tracks[:-1]) | (bins[1:] != bins[:-1])
    starts = np.flatnonzero(new)
    box = timeline.xyxy[rows].astype(np.float64)
    cx, cy = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    count = np.diff(np.append(starts, len(rows)))
    extent = np.maximum(
        np.maximum.reduceat(cx, starts) - np.minimum.reduceat(cx, starts),
        np.maximum.reduceat(cy, starts) - np.minimum.reduceat(cy, starts),
    )
    mx, my = np.add.reduceat(cx, starts) / count, np.add.reduceat(cy, starts) / count
    drift_ok = np.ones(len(starts), bool)
    b_track, b_bin = tracks[starts], bins[starts]
    adjacent = (b_track[1:] == b_track[:-1]) & (b_bin[1:] == b_bin[:-1] + 1)
    drift = np.hypot(np.diff(mx), np.diff(my))
    drift_ok[1:] = ~adjacent | (drift <= radius)
    enough = (count >= 2) | held_bin[b_bin]
    still = (extent <= radius) & enough & drift_ok
    out[rows] = still[np.cumsum(new) - 1]
    return out


def run_spread(
    timeline: ObservationTimeline, runs: Runs, rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Per run over person rows: how far the box centre ranged (max of x and y extent)."""
    box = timeline.xyxy[rows].astype(np.float64)
    cx, cy = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    return np.array(
        [
            max(np.ptp(cx[a : b + 1]), np.ptp(cy[a : b + 1]))
            for a, b in zip(runs.first.tolist(), runs.last.tolist(), strict=True)
        ],
        np.float64,
    )


class NotPatrollingParams(TimedParams):
    """LOBBY_MANAGER_NOT_PATROLLING: the lobby manager idle in one place while customers wait."""

    roles: tuple[RoleName, ...] = Field(
        default=("lobby_manager",), min_length=1, description="Roles checked."
    )
    radius: float = Field(
        default=0.06,
        gt=0.0,
        le=1.0,
        description="Largest movement (fraction of the frame) that counts as staying put.",
    )
    window_s: float = Field(
        default=60.0, gt=0.0, le=3_600.0, description="Time bin in which movement is judged."
    )
    min_duration_s: float = Field(
        default=900.0, ge=0.0, le=86_400.0, description="Shortest idle stretch reported."
    )
    merge_gap_s: float = Field(
        default=20.0,
        ge=0.0,
        le=3_600.0,
        description="Interruptions up to this long (seconds, e.g. missed detections) do not "
        "end an idle stretch; a real walk lasts longer.",
    )
    cooldown_s: float = Field(
        default=900.0, ge=0.0, le=86_400.0, description="Minimum time between two findings."
    )
    require_customers: bool = Field(
        default=True, description="Only while at least one customer is in the customer zones."
    )
    customer_zones: tuple[ZoneKindName, ...] = Field(
        default=("lobby", "counter_window", "self_service"),
        min_length=1,
        description="Zone kinds where customers are counted.",
    )


class GuardNotPatrollingParams(NotPatrollingParams):
    """GUARD_NOT_PATROLLING: the guard stays in one spot instead of walking the hall."""

    roles: tuple[RoleName, ...] = Field(
        default=("guard",), min_length=1, description="Roles checked."
    )
    min_duration_s: float = Field(
        default=1200.0, ge=0.0, le=86_400.0, description="Shortest idle stretch reported."
    )
    cooldown_s: float = Field(
        default=1200.0, ge=0.0, le=86_400.0, description="Minimum time between two findings."
    )
    require_customers: bool = Field(
        default=False, description="Only while at least one customer is in the customer zones."
    )


def _not_patrolling(
    item: str, timeline: ObservationTimeline, ctx: RuleContext, params: NotPatrollingParams
) -> list[Event]:
    rows = np.isin(timeline.role, role_codes(params.roles))
    flag = stationary_rows(timeline, rows, params.radius, params.window_s)
    if params.require_customers:
        customers = timeline.people_in(*params.customer_zones) & np.isin(
            timeline.role, role_codes(("customer",))
        )
        busy = hold_forward(timeline.count_per_sample(customers) > 0, timeline.inferred)
        flag &= busy[timeline.sample]
    runs, order = track_runs(
        timeline,
        ctx,
        rows,
        flag,
        merge_gap_s=params.merge_gap_s,
        min_duration_s=params.min_duration_s,
    )
    # Still minute by minute but drifting across the hall over the run is walking.
    runs = runs.select(run_spread(timeline, runs, order) <= 2 * params.radius)
    return build_events(
        item,
        VERSION,
        timeline,
        ctx,
        runs,
        rows=order,
        cooldown_s=params.cooldown_s,
        details={"radius": params.radius, "min_duration_s": params.min_duration_s},
    )


@register("LOBBY_MANAGER_NOT_PATROLLING", NotPatrollingParams, VERSION)
def lobby_manager_not_patrolling(
    timeline: ObservationTimeline, ctx: RuleContext, params: NotPatrollingParams
) -> list[Event]:
    """The lobby manager stays in one place for a long time while customers are in the hall."""
    return _not_patrolling("LOBBY_MANAGER_NOT_PATROLLING", timeline, ctx, params)


@register("GUARD_NOT_PATROLLING", GuardNotPatrollingParams, VERSION)
def guard_not_patrolling(
    timeline: ObservationTimeline, ctx: RuleContext, params: GuardNotPatrollingParams
) -> list[Event]:
    """The guard's position stays within a small radius for a long time."""
    return _not_patrolling("GUARD_NOT_PATROLLING", timeline, ctx, params)
