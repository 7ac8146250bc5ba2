"""What the built-in rules share: timing parameters, role names and event construction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from rules.registry import RuleContext, RuleParams
from rules.timeseries import Runs, apply_cooldown
from rules.types import Event
from vision.timeline import ObservationTimeline
from vision.types import Posture, Role

logger = logging.getLogger(__name__)

RoleName = Literal["unknown", "customer", "teller", "lobby_manager", "guard"]
PostureName = Literal[
    "seated",
    "leaning",
    "head_dropped",
    "arms_crossed",
    "hands_behind_back",
    "hands_at_hip",
    "wrist_above_shoulder",
    "wrist_near_ear",
    "looking_at_phone",
    "legs_crossed",
    "reading",
]
ZoneKindName = Literal[
    "customer_view",
    "counter_window",
    "teller_seat",
    "lobby",
    "lobby_manager_post",
    "guard_post",
    "self_service",
    "restricted",
    "ignore",
    "screen",
]
STAFF_ROLES: tuple[RoleName, ...] = ("teller", "lobby_manager", "guard")
People = tuple[tuple[int, ...], tuple[str, ...]]
"""Track ids and role names of the people an event is about."""


class TimedParams(RuleParams):
    """Parameters of rules that report stretches of time."""

    min_duration_s: float = Field(
        default=30.0,
        ge=0.0,
        le=86_400.0,
        description="Shortest stretch (seconds) that counts as a finding.",
    )
    merge_gap_s: float = Field(
        default=6.0,
        ge=0.0,
        le=3_600.0,
        description="Interruptions up to this long (seconds, e.g. a missed detection) do not "
        "split a stretch; time not looked at always splits it.",
    )
    cooldown_s: float = Field(
        default=300.0,
        ge=0.0,
        le=86_400.0,
        description="After a finding, the same finding (same person or zone) is not reported "
        "again until this many seconds have passed.",
    )


def role_codes(names: Iterable[RoleName]) -> npt.NDArray[np.int8]:
    """Role enum values of role names."""
    return np.array([int(Role[name.upper()]) for name in names], np.int8)


def posture_columns(names: Iterable[PostureName]) -> npt.NDArray[np.intp]:
    """Column indices in ``timeline.posture`` of posture names."""
    return np.array([int(Posture[name.upper()]) for name in names], np.intp)


def epoch_to_dt(ts: float, ctx: RuleContext) -> datetime:
    """A UTC epoch time as an aware datetime in the branch's zone."""
    return datetime.fromtimestamp(float(ts), ctx.tz)


def zone_ids(timeline: ObservationTimeline, cols: npt.NDArray[np.intp]) -> str | None:
    """Comma-joined ids of the zones at ``cols`` (``None`` when there are none)."""
    return ",".join(timeline.zones[int(c)].id for c in cols) or None


def build_events(
    item: str,
    version: str,
    timeline: ObservationTimeline,
    ctx: RuleContext,
    runs: Runs,
    *,
    cooldown_s: float = 0.0,
    zone: str | None = None,
    zone_of_group: dict[int, str] | None = None,
    box_of_group: dict[int, tuple[float, float, float, float]] | None = None,
    rows: npt.NDArray[np.int64] | None = None,
    details: dict[str, Any] | None = None,
    run_details: list[dict[str, Any]] | None = None,
    run_people: list[People] | None = None,
) -> list[Event]:
    """Turn runs into events, dropping repeats within the cool-down.

    Args:
        item: Inspection item code.
        version: Rule version.
        timeline: The camera's timeline (for track ids, roles and boxes).
        ctx: Rule context.
        runs: Runs to report.
        cooldown_s: Minimum time between two findings of one group.
        zone: Zone id to record on every event.
        zone_of_group: Zone id per run group (overrides ``zone``).
        box_of_group: Box to outline per run group.
        rows: When the runs were found over person rows, the row index of each point (the
            runs' ``first``/``last`` index into it); gives track, role and box.
        details: Extra details recorded on every event.
        run_details: Extra details per run (same order as ``runs`` before the cool-down).
        run_people: Track ids and roles per run (same order), for runs over zones.

    Returns:
        Events sorted by start.
    """
    keep = apply_cooldown(runs, cooldown_s)
    out: list[Event] = []
    for k in np.argsort(runs.start, kind="stable"):
        if not keep[k]:
            continue
        start = float(runs.start[k])
        end = max(float(runs.end[k]), start)
        info: dict[str, Any] = {
            "observed_s": round(float(runs.duration[k]), 1),
            **(details or {}),
            **(run_details[k] if run_details else {}),
        }
        track_ids, roles = run_people[k] if run_people else ((), ())
        box: tuple[float, float, float, float] | None = None
        where: str | None = None
        evidence = start
        if rows is not None:
            first_row = int(rows[int(runs.first[k])])
            last_row = int(rows[int(runs.last[k])])
            mid_row = int(rows[(int(runs.first[k]) + int(runs.last[k])) // 2])
            track_ids = (int(timeline.track_id[first_row]),)
            roles = (Role(int(timeline.role[last_row])).name.lower(),)
            x0, y0, x1, y1 = (float(v) for v in timeline.xyxy[mid_row])
            box = (x0, y0, x1, y1)
            evidence = float(timeline.ts[timeline.sample[mid_row]])
            where = zone_ids(timeline, np.flatnonzero(timeline.in_zone[mid_row]).astype(np.intp))
        group_zone = zone_of_group.get(int(runs.group[k])) if zone_of_group else None
        if box_of_group:
            box = box_of_group.get(int(runs.group[k]), box)
        out.append(
            Event(
                item=item,
                branch=ctx.branch,
                camera=ctx.camera,
                start=epoch_to_dt(start, ctx),
                end=epoch_to_dt(end, ctx),
                rule_version=version,
                track_ids=track_ids,
                roles=roles,
                zone=group_zone or zone or where,
                details=info,
                evidence_ts=epoch_to_dt(max(evidence, start), ctx),
                box=box,
            )
        )
    return out


def zone_counts(
    timeline: ObservationTimeline, person_mask: npt.NDArray[np.bool_], cols: npt.NDArray[np.intp]
) -> npt.NDArray[np.int32]:
    """Number of selected people in each zone column per sample, shape ``(T, len(cols))``."""
    out = np.zeros((timeline.num_samples, len(cols)), np.int32)
    inside = timeline.in_zone[person_mask][:, cols].astype(np.int32)
    np.add.at(out, timeline.sample[person_mask], inside)
    return out
