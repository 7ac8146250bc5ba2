"""Bearing of staff and guards: posture, phone use, sleeping."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field

from rules.items.base import (
    PostureName,
    RoleName,
    TimedParams,
    build_events,
    posture_columns,
    role_codes,
)
from rules.items.movement import stationary_rows
from rules.registry import RuleContext, register
from rules.timeseries import Runs, track_runs
from rules.types import Event
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)

VERSION = "1"


class PostureParams(TimedParams):
    """Common parameters of the posture items: who, which postures, how long."""

    roles: tuple[RoleName, ...] = Field(
        default=("teller", "lobby_manager"), min_length=1, description="Roles checked."
    )
    postures: tuple[PostureName, ...] = Field(
        default=("arms_crossed", "hands_behind_back", "hands_at_hip", "leaning", "legs_crossed"),
        min_length=1,
        description="Posture flags any of which is a finding.",
    )


class GuardPostureParams(PostureParams):
    """GUARD_POSTURE: a guard seated badly or behaving indecently."""

    roles: tuple[RoleName, ...] = Field(
        default=("guard",), min_length=1, description="Roles checked."
    )
    postures: tuple[PostureName, ...] = Field(
        default=("leaning", "head_dropped", "legs_crossed"),
        min_length=1,
        description="Posture flags any of which is a finding (slumped, head down, legs "
        "crossed; add 'seated' where guards must stand).",
    )


class StaffPhoneParams(PostureParams):
    """STAFF_PHONE_USE: a phone in a staff member's hand or at the ear."""

    roles: tuple[RoleName, ...] = Field(
        default=("teller", "lobby_manager", "guard"), min_length=1, description="Roles checked."
    )
    postures: tuple[PostureName, ...] = Field(
        default=("looking_at_phone", "wrist_near_ear"),
        min_length=1,
        description="Posture flags that show phone use.",
    )
    min_duration_s: float = Field(
        default=10.0, ge=0.0, le=86_400.0, description="Shortest use reported (seconds)."
    )


class StaffReadingParams(PostureParams):
    """STAFF_READING: head bowed over a sheet held in both hands (报纸杂志)."""

    roles: tuple[RoleName, ...] = Field(
        default=("teller", "lobby_manager", "guard"), min_length=1, description="Roles checked."
    )
    postures: tuple[PostureName, ...] = Field(
        default=("reading",), min_length=1, description="Posture flags that show reading."
    )
    min_duration_s: float = Field(
        default=60.0, ge=0.0, le=86_400.0, description="Shortest reading reported (seconds)."
    )


class StaffSleepingParams(PostureParams):
    """STAFF_SLEEPING: head down and no movement for minutes."""

    roles: tuple[RoleName, ...] = Field(
        default=("teller", "lobby_manager", "guard"), min_length=1, description="Roles checked."
    )
    postures: tuple[PostureName, ...] = Field(
        default=("head_dropped",), min_length=1, description="Posture flags of a sleeper."
    )
    min_duration_s: float = Field(
        default=180.0, ge=0.0, le=86_400.0, description="Shortest sleep reported (seconds)."
    )
    still_radius: float = Field(
        default=0.02,
        gt=0.0,
        le=1.0,
        description="Largest movement of the box centre (fraction of the frame) that still "
        "counts as motionless.",
    )
    still_window_s: float = Field(
        default=60.0, gt=0.0, le=3_600.0, description="Time bin in which stillness is judged."
    )


def _posture_flag(
    timeline: ObservationTimeline, params: PostureParams
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    rows = np.isin(timeline.role, role_codes(params.roles))
    flag = (timeline.posture[:, posture_columns(params.postures)] == 1).any(axis=1)
    return rows, flag


def observed_postures(
    timeline: ObservationTimeline,
    rows: npt.NDArray[np.int64],
    runs: Runs,
    names: tuple[PostureName, ...],
) -> list[dict[str, Any]]:
    """Per run, the share of its person-samples that showed each posture of ``names``.

    Tells a reviewer which posture was seen (e.g. ``{"hands_at_hip": 0.92}``); postures never
    seen in the run are left out.
    """
    cols = posture_columns(names)
    out: list[dict[str, Any]] = []
    for first, last in zip(runs.first.tolist(), runs.last.tolist(), strict=True):
        share = (timeline.posture[rows[first : last + 1]][:, cols] == 1).mean(axis=0)
        seen = {name: round(float(v), 2) for name, v in zip(names, share, strict=True) if v > 0}
        out.append({"observed": dict(sorted(seen.items(), key=lambda kv: -kv[1]))})
    return out


def _posture_events(
    item: str,
    timeline: ObservationTimeline,
    ctx: RuleContext,
    params: PostureParams,
    rows_mask: npt.NDArray[np.bool_],
    flag: npt.NDArray[np.bool_],
) -> list[Event]:
    runs, rows = track_runs(
        timeline,
        ctx,
        rows_mask,
        flag,
        merge_gap_s=params.merge_gap_s,
        min_duration_s=params.min_duration_s,
    )
    return build_events(
        item,
        VERSION,
        timeline,
        ctx,
        runs,
        rows=rows,
        cooldown_s=params.cooldown_s,
        details={"postures": list(params.postures), "min_duration_s": params.min_duration_s},
        run_details=observed_postures(timeline, rows, runs, params.postures),
    )


@register("STAFF_POSTURE", PostureParams, VERSION)
def staff_posture(
    timeline: ObservationTimeline, ctx: RuleContext, params: PostureParams
) -> list[Event]:
    """Staff standing or sitting improperly (arms crossed, hands behind the back …)."""
    rows, flag = _posture_flag(timeline, params)
    return _posture_events("STAFF_POSTURE", timeline, ctx, params, rows, flag)


@register("GUARD_POSTURE", GuardPostureParams, VERSION)
def guard_posture(
    timeline: ObservationTimeline, ctx: RuleContext, params: GuardPostureParams
) -> list[Event]:
    """A guard seated slumped, leaning, legs crossed or head down."""
    rows, flag = _posture_flag(timeline, params)
    return _posture_events("GUARD_POSTURE", timeline, ctx, params, rows, flag)


@register("STAFF_PHONE_USE", StaffPhoneParams, VERSION)
def staff_phone_use(
    timeline: ObservationTimeline, ctx: RuleContext, params: StaffPhoneParams
) -> list[Event]:
    """A staff member looking at a phone in the hand or holding it at the ear."""
    rows, flag = _posture_flag(timeline, params)
    return _posture_events("STAFF_PHONE_USE", timeline, ctx, params, rows, flag)


@register("STAFF_SLEEPING", StaffSleepingParams, VERSION)
def staff_sleeping(
    timeline: ObservationTimeline, ctx: RuleContext, params: StaffSleepingParams
) -> list[Event]:
    """A staff member with the head down and (almost) no movement for minutes."""
    rows, flag = _posture_flag(timeline, params)
    still = stationary_rows(timeline, rows, params.still_radius, params.still_window_s)
    return _posture_events("STAFF_SLEEPING", timeline, ctx, params, rows, flag & still)


@register("STAFF_READING", StaffReadingParams, VERSION)
def staff_reading(
    timeline: ObservationTimeline, ctx: RuleContext, params: StaffReadingParams
) -> list[Event]:
    """A staff member with the head bowed over a sheet held in both hands at a post."""
    rows, flag = _posture_flag(timeline, params)
    return _posture_events("STAFF_READING", timeline, ctx, params, rows, flag)
