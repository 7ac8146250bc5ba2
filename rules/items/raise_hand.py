"""RAISE_HAND_AFTER_CALL: a teller raises a hand after the queue machine calls a number."""

from __future__ import annotations

import logging

import numpy as np
from pydantic import Field

from rules.items.base import PostureName, RoleName, epoch_to_dt, posture_columns, role_codes
from rules.registry import RuleContext, RuleParams, register
from rules.types import Event
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)

VERSION = "1"


class RaiseHandParams(RuleParams):
    """RAISE_HAND_AFTER_CALL parameters."""

    response_s: float = Field(
        default=10.0, gt=0.0, le=120.0, description="Time after a call to raise a hand."
    )
    look_back_s: float = Field(
        default=30.0,
        ge=0.0,
        le=600.0,
        description="A teller seen this long before the call still counts as at the window "
        "(the motion gate may hold a still view).",
    )
    roles: tuple[RoleName, ...] = Field(
        default=("teller", "unknown"), min_length=1, description="Roles at the teller seat."
    )
    postures: tuple[PostureName, ...] = Field(
        default=("wrist_above_shoulder",), min_length=1, description="What counts as a raised hand."
    )


@register("RAISE_HAND_AFTER_CALL", RaiseHandParams, VERSION)
def raise_hand_after_call(
    timeline: ObservationTimeline, ctx: RuleContext, params: RaiseHandParams
) -> list[Event]:
    """Calls of the queue machine not followed by the teller's raised hand.

    A call is judged only when it falls in looked-at business time, the window has a teller
    seat zone on this camera, and a teller was seen in it around the call; otherwise the
    call is skipped (not looked at is not a violation).
    """
    if not ctx.calls or timeline.num_samples == 0:
        return []
    staff = np.isin(timeline.role, role_codes(params.roles))
    raised = (timeline.posture[:, posture_columns(params.postures)] == 1).any(axis=1)
    row_t = timeline.ts[timeline.sample]
    events: list[Event] = []
    seats = [(i, z) for i, z in enumerate(timeline.zones) if z.kind == "teller_seat"]
    for col, zone in seats:
        calls = np.array(
            sorted(c.ts for c in ctx.calls if c.window_id == zone.window_id), np.float64
        )
        if len(calls) == 0:
            continue
        # Judged only if the call and its response time are on footage in business hours.
        end = calls + params.response_s
        judged = (
            timeline.covered(calls)
            & timeline.covered(np.nextafter(end, calls))
            & ctx.hours.mask(calls, ctx.tz)
        )
        t = row_t[staff & timeline.in_zone[:, col]]  # sorted: rows are in sample order
        th = row_t[staff & timeline.in_zone[:, col] & raised]
        seen = np.searchsorted(t, end, "right") > np.searchsorted(t, calls - params.look_back_s)
        hand = np.searchsorted(th, end, "right") > np.searchsorted(th, calls)
        for k in np.flatnonzero(judged & seen & ~hand):
            start = float(calls[k])
            events.append(
                Event(
                    item="RAISE_HAND_AFTER_CALL",
                    branch=ctx.branch,
                    camera=ctx.camera,
                    start=epoch_to_dt(start, ctx),
                    end=epoch_to_dt(start + params.response_s, ctx),
                    rule_version=VERSION,
                    zone=zone.id,
                    details={
                        "window_id": zone.window_id,
                        "call_time": epoch_to_dt(start, ctx).isoformat(),
                        "response_s": params.response_s,
                    },
                    evidence_ts=epoch_to_dt(start + params.response_s / 2, ctx),
                )
            )
    events.sort(key=lambda e: e.start)
    return events
