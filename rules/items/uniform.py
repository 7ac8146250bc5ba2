"""Dress code: UNIFORM (着装不规范).

Reads ``timeline.uniform_dist``: for each person row, how far the torso colours are from the
nearest uniform calibrated for each staff role (``branchwatch calibrate`` stores the
signatures). A member of staff whose clothing stays far from their role's uniform for
``min_duration_s`` is a finding, with their box outlined on the still. A role without a
calibrated uniform on the camera (NaN) is never reported.
"""

from __future__ import annotations

import logging

import numpy as np
from pydantic import Field

from rules.items.base import STAFF_ROLES, RoleName, TimedParams, build_events, role_codes
from rules.registry import RuleContext, register
from rules.timeseries import track_runs
from rules.types import Event
from vision.timeline import UNIFORM_ROLES, ObservationTimeline

logger = logging.getLogger(__name__)

VERSION = "1"


class UniformParams(TimedParams):
    """UNIFORM: staff on duty not wearing their role's calibrated uniform."""

    roles: tuple[RoleName, ...] = Field(
        default=STAFF_ROLES, min_length=1, description="Staff roles checked."
    )
    max_distance: float = Field(
        default=0.55,
        gt=0.0,
        le=1.0,
        description="Colour distance (0 same, 1 disjoint) to the role's nearest calibrated "
        "uniform above which the clothing does not match.",
    )
    min_duration_s: float = Field(
        default=60.0, ge=0.0, le=86_400.0, description="Shortest stretch reported (seconds)."
    )
    cooldown_s: float = Field(
        default=43_200.0,
        ge=0.0,
        le=86_400.0,
        description="The same person is not reported again for this long (once a day by default).",
    )


@register("UNIFORM", UniformParams, VERSION, needs=("uniforms",))
def uniform(timeline: ObservationTimeline, ctx: RuleContext, params: UniformParams) -> list[Event]:
    """Staff whose torso colours stay far from their role's calibrated uniform."""
    codes = role_codes(params.roles)
    column = {int(role): j for j, role in enumerate(UNIFORM_ROLES)}
    rows_mask = np.isin(timeline.role, codes) & (timeline.track_id >= 0)
    cols = np.array([column.get(int(r), 0) for r in timeline.role], np.intp)
    dist = (
        timeline.uniform_dist[np.arange(len(cols)), cols] if len(cols) else np.zeros(0, np.float32)
    )
    with np.errstate(invalid="ignore"):
        flag = rows_mask & (dist > params.max_distance)
    runs, rows = track_runs(
        timeline,
        ctx,
        rows_mask & np.isfinite(dist),
        flag,
        merge_gap_s=params.merge_gap_s,
        min_duration_s=params.min_duration_s,
    )
    details = [
        {
            "distance": round(
                float(np.median(dist[rows[int(runs.first[k]) : int(runs.last[k]) + 1]])), 3
            )
        }
        for k in range(len(runs))
    ]
    return build_events(
        "UNIFORM",
        VERSION,
        timeline,
        ctx,
        runs,
        cooldown_s=params.cooldown_s,
        rows=rows,
        details={"max_distance": params.max_distance},
        run_details=details,
    )
