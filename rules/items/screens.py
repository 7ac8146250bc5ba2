"""Screens left off: SCREENS_OFF (多媒体显示屏未开启).

Reads the timeline's ``screen`` measures of each zone of kind ``screen`` (see
:mod:`vision.screens`): a screen that is dark, uniform (blank, "no signal") or frozen during
business hours for longer than ``min_duration_s`` is a finding. A camera without screen zones,
or footage analysed before screens were measured (NaN), finds nothing.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
from pydantic import Field

from rules.items.base import TimedParams, build_events
from rules.registry import RuleContext, register
from rules.timeseries import column_runs
from rules.types import Event
from vision.timeline import SCREEN_KIND, ObservationTimeline

logger = logging.getLogger(__name__)

VERSION = "1"

BRIGHTNESS, CONTRAST, CHANGE = 0, 1, 2
"""Columns of ``timeline.screen`` (as :class:`vision.screens.ScreenMeasure`)."""


class ScreensOffParams(TimedParams):
    """SCREENS_OFF: a screen dark, blank or frozen for too long in business hours."""

    min_duration_s: float = Field(
        default=300.0, ge=0.0, le=86_400.0, description="Shortest stretch reported (seconds)."
    )
    merge_gap_s: float = Field(
        default=0.0,
        ge=0.0,
        le=3_600.0,
        description="Interruptions up to this long do not split a stretch; screens are measured "
        "on every sample, so the default bridges nothing (a slide change ends a frozen stretch).",
    )
    cooldown_s: float = Field(
        default=3_600.0,
        ge=0.0,
        le=86_400.0,
        description="After a finding, the same screen is not reported again for this long.",
    )
    dark_max_brightness: float = Field(
        default=35.0, ge=0.0, le=255.0, description="Mean grey level at or below which it is off."
    )
    uniform_max_contrast: float = Field(
        default=6.0,
        ge=0.0,
        le=128.0,
        description="Grey-level standard deviation at or below which it shows nothing.",
    )
    frozen_max_change: float | None = Field(
        default=1.5,
        ge=0.0,
        le=255.0,
        description="Mean grey-level change between samples at or below which the picture is "
        "frozen; null: a still picture is fine (static signage).",
    )


def screen_states(
    timeline: ObservationTimeline, params: ScreensOffParams
) -> dict[str, npt.NDArray[np.bool_]]:
    """Per sample and screen ``(T, S)``: whether it is dark, uniform and frozen."""
    s = timeline.screen
    with np.errstate(invalid="ignore"):
        dark = s[:, :, BRIGHTNESS] <= params.dark_max_brightness
        uniform = s[:, :, CONTRAST] <= params.uniform_max_contrast
        if params.frozen_max_change is None:
            frozen = np.zeros(dark.shape, bool)
        else:
            frozen = s[:, :, CHANGE] <= params.frozen_max_change
    return {"dark": dark, "uniform": uniform, "frozen": frozen}


@register("SCREENS_OFF", ScreensOffParams, VERSION, needs=("zone:screen",))
def screens_off(
    timeline: ObservationTimeline, ctx: RuleContext, params: ScreensOffParams
) -> list[Event]:
    """Screens dark, uniform or frozen in business hours for ``min_duration_s`` or longer."""
    screens = [i for i, z in enumerate(timeline.zones) if z.kind == SCREEN_KIND]
    if not screens or timeline.num_samples == 0:
        return []
    states = screen_states(timeline, params)
    flags = states["dark"] | states["uniform"] | states["frozen"]
    runs = column_runs(
        timeline,
        ctx,
        flags,
        merge_gap_s=params.merge_gap_s,
        min_duration_s=params.min_duration_s,
        hold=False,  # screens are measured on every sample, held or not
    )
    t = timeline.num_samples
    details = []
    for k in range(len(runs)):
        col = int(runs.group[k])
        lo, hi = int(runs.first[k]) - col * t, int(runs.last[k]) - col * t + 1
        seen = {name: int(mask[lo:hi, col].sum()) for name, mask in states.items()}
        values = timeline.screen[lo:hi, col]
        details.append(
            {
                "state": max(seen, key=lambda n: seen[n]),
                "samples": seen,
                "brightness": round(float(np.nanmean(values[:, BRIGHTNESS])), 1),
                "contrast": round(float(np.nanmean(values[:, CONTRAST])), 1),
            }
        )
    return build_events(
        "SCREENS_OFF",
        VERSION,
        timeline,
        ctx,
        runs,
        cooldown_s=params.cooldown_s,
        zone_of_group={c: timeline.zones[z].id for c, z in enumerate(screens)},
        details={"min_duration_s": params.min_duration_s},
        run_details=details,
    )
