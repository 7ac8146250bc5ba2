"""MISSING_FOOTAGE: business hours that no footage covers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from pydantic import Field

from rules.items.base import epoch_to_dt
from rules.registry import RuleContext, RuleParams, register
from rules.timeseries import JOIN_FACTOR, uncovered
from rules.types import Event
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)

VERSION = "1"


class MissingFootageParams(RuleParams):
    """MISSING_FOOTAGE: gaps in the recording during business hours."""

    min_gap_s: float = Field(
        default=60.0,
        ge=0.0,
        le=86_400.0,
        description="Shortest uncovered stretch of business hours reported (seconds).",
    )


def _business_intervals(ctx: RuleContext, lo: float, hi: float) -> npt.NDArray[np.float64]:
    """Business-hour intervals (UTC epoch) clipped to ``[lo, hi)``."""
    day = datetime.fromtimestamp(lo, ctx.tz).date()
    last = datetime.fromtimestamp(hi, ctx.tz).date()
    out: list[tuple[float, float]] = []
    while day <= last:
        for s, e in ctx.hours.intervals(day, ctx.tz):
            a, b = max(s.timestamp(), lo), min(e.timestamp(), hi)
            if b > a:
                out.append((a, b))
        day += timedelta(days=1)
    return np.array(out, np.float64).reshape(-1, 2)


@register("MISSING_FOOTAGE", MissingFootageParams, VERSION, uses_zones=False)
def missing_footage(
    timeline: ObservationTimeline, ctx: RuleContext, params: MissingFootageParams
) -> list[Event]:
    """Business hours inside the analysed window that no footage covers.

    The window is ``ctx.window`` when given, else the span of the timeline (its samples and
    coverage). Holes shorter than 1.5 sampling intervals are file joins, not gaps.
    """
    if ctx.window is not None:
        lo, hi = float(ctx.window[0]), float(ctx.window[1])
    else:
        edges = [timeline.coverage.reshape(-1)]
        if timeline.num_samples:
            edges.append(np.array([timeline.ts[0], timeline.ts[-1] + ctx.interval_s]))
        flat = np.concatenate(edges)
        if len(flat) == 0:
            return []
        lo, hi = float(flat.min()), float(flat.max())
    gaps = uncovered(_business_intervals(ctx, lo, hi), timeline.coverage)
    keep = (gaps[:, 1] - gaps[:, 0]) >= max(params.min_gap_s, JOIN_FACTOR * ctx.interval_s)
    events = []
    for a, b in gaps[keep]:
        events.append(
            Event(
                item="MISSING_FOOTAGE",
                branch=ctx.branch,
                camera=ctx.camera,
                start=epoch_to_dt(a, ctx),
                end=epoch_to_dt(b, ctx),
                rule_version=VERSION,
                details={"missing_s": round(float(b - a), 1), "min_gap_s": params.min_gap_s},
                evidence_ts=epoch_to_dt(a, ctx),
            )
        )
    return events
