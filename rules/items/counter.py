"""The counter: customers crowding a window, windows left without a teller."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field

from rules.items.base import (
    People,
    RoleName,
    TimedParams,
    build_events,
    role_codes,
    zone_counts,
)
from rules.registry import RuleContext, register
from rules.timeseries import Runs, column_runs
from rules.types import Event
from vision.timeline import ObservationTimeline
from vision.types import Role

logger = logging.getLogger(__name__)

VERSION = "1"
CROWDING_VERSION = "2"
"""2: a crowding event names the customers in the window at its peak."""


class CounterCrowdingParams(TimedParams):
    """COUNTER_CROWDING: more customers inside a window's one-metre line than allowed."""

    max_customers: int = Field(
        default=1, ge=1, le=20, description="Customers allowed inside one window zone at once."
    )
    roles: tuple[RoleName, ...] = Field(
        default=("customer", "unknown"), min_length=1, description="Roles counted as customers."
    )
    min_duration_s: float = Field(
        default=20.0, ge=0.0, le=86_400.0, description="Shortest crowding reported (seconds)."
    )


class WindowUnattendedParams(TimedParams):
    """WINDOW_UNATTENDED: customers at a window whose teller seat is empty."""

    customer_roles: tuple[RoleName, ...] = Field(
        default=("customer", "unknown"), min_length=1, description="Roles counted as customers."
    )
    teller_roles: tuple[RoleName, ...] = Field(
        default=("teller",), min_length=1, description="Roles that staff a window."
    )
    unknown_at_seat: bool = Field(
        default=True, description="A person of unknown role in the teller seat counts as staff."
    )
    min_duration_s: float = Field(
        default=120.0, ge=0.0, le=86_400.0, description="Shortest stretch reported (seconds)."
    )
    cooldown_s: float = Field(
        default=600.0, ge=0.0, le=86_400.0, description="Minimum time between two findings."
    )


def _peak_samples(runs: Runs, counts: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """Per run: the sample at which its column's count is highest (the first such)."""
    t = counts.shape[0]
    flat = counts.T.reshape(-1)
    return np.array(
        [
            (int(a) + int(np.argmax(flat[int(a) : int(b) + 1]))) % t
            for a, b in zip(runs.first, runs.last, strict=True)
        ],
        np.int64,
    )


def _crowds(
    timeline: ObservationTimeline,
    runs: Runs,
    counts: npt.NDArray[np.int32],
    customers: npt.NDArray[np.bool_],
    cols: npt.NDArray[np.intp],
) -> tuple[list[dict[str, Any]], list[People]]:
    """Per run: its peak count, and the customers (track, role) in the window at the peak."""
    details: list[dict[str, Any]] = []
    people: list[People] = []
    for sample, group in zip(_peak_samples(runs, counts), runs.group, strict=True):
        col = int(cols[int(group)])
        rows = np.flatnonzero(customers & (timeline.sample == sample) & timeline.in_zone[:, col])
        details.append({"peak": int(counts[sample, int(group)])})
        people.append(
            (
                tuple(int(timeline.track_id[r]) for r in rows),
                tuple(Role(int(timeline.role[r])).name.lower() for r in rows),
            )
        )
    return details, people


@register("COUNTER_CROWDING", CounterCrowdingParams, CROWDING_VERSION)
def counter_crowding(
    timeline: ObservationTimeline, ctx: RuleContext, params: CounterCrowdingParams
) -> list[Event]:
    """More than ``max_customers`` customers inside a counter window zone."""
    cols = timeline.zone_indices("counter_window")
    customers = np.isin(timeline.role, role_codes(params.roles))
    counts = zone_counts(timeline, customers, cols)
    runs = column_runs(
        timeline,
        ctx,
        counts > params.max_customers,
        merge_gap_s=params.merge_gap_s,
        min_duration_s=params.min_duration_s,
    )
    details, people = _crowds(timeline, runs, counts, customers, cols)
    return build_events(
        "COUNTER_CROWDING",
        CROWDING_VERSION,
        timeline,
        ctx,
        runs,
        cooldown_s=params.cooldown_s,
        zone_of_group={i: timeline.zones[int(c)].id for i, c in enumerate(cols)},
        details={"max_customers": params.max_customers},
        run_details=details,
        run_people=people,
    )


def _window_columns(timeline: ObservationTimeline) -> list[tuple[str, list[int], list[int]]]:
    """Windows with both a counter zone and a teller seat: (window id, counter cols, seats)."""
    out = []
    windows = sorted({z.window_id for z in timeline.zones if z.window_id})
    for w in windows:
        counter = [
            i
            for i, z in enumerate(timeline.zones)
            if z.window_id == w and z.kind == "counter_window"
        ]
        seats = [
            i for i, z in enumerate(timeline.zones) if z.window_id == w and z.kind == "teller_seat"
        ]
        if counter and seats:
            out.append((w, counter, seats))
    return out


@register("WINDOW_UNATTENDED", WindowUnattendedParams, VERSION)
def window_unattended(
    timeline: ObservationTimeline, ctx: RuleContext, params: WindowUnattendedParams
) -> list[Event]:
    """A window with customers in its counter zone and nobody in its teller seat."""
    windows = _window_columns(timeline)
    if not windows:
        return []
    customers = np.isin(timeline.role, role_codes(params.customer_roles))
    tellers = np.isin(timeline.role, role_codes(params.teller_roles))
    if params.unknown_at_seat:
        tellers |= timeline.role == int(Role.UNKNOWN)
    all_cols = np.arange(len(timeline.zones), dtype=np.intp)
    cust = zone_counts(timeline, customers, all_cols)
    staff = zone_counts(timeline, tellers, all_cols)
    flags = np.stack(
        [
            (cust[:, counter].sum(axis=1) > 0) & (staff[:, seats].sum(axis=1) == 0)
            for _, counter, seats in windows
        ],
        axis=1,
    )
    runs = column_runs(
        timeline,
        ctx,
        flags,
        merge_gap_s=params.merge_gap_s,
        min_duration_s=params.min_duration_s,
    )
    return build_events(
        "WINDOW_UNATTENDED",
        VERSION,
        timeline,
        ctx,
        runs,
        cooldown_s=params.cooldown_s,
        zone_of_group={
            i: timeline.zones[counter[0]].id for i, (_, counter, _) in enumerate(windows)
        },
        run_details=[{"window_id": windows[int(g)][0]} for g in runs.group],
    )
