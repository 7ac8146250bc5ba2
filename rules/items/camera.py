"""Camera health (设备/画面): a moved, black, frozen, covered or defocused view.

The measures come with the timeline (:class:`vision.timeline.CameraHealth`, taken by
:mod:`vision.health` on the frames the scan decodes anyway); these rules only apply
thresholds. A stretch is reported from its first flagged sample to its last plus one
sampling interval. Findings of a moved, black, frozen or covered view *withhold* the
camera's zone-based items over their stretch (see :func:`rules.engine.run_rules`): the zones
were drawn on a view the camera no longer shows, so what they would report is not trusted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from pydantic import Field

from rules.items.base import TimedParams, build_events
from rules.registry import RuleContext, register
from rules.timeseries import find_runs, hold_forward, looked_at
from rules.types import Event
from vision.timeline import CameraHealth, ObservationTimeline

logger = logging.getLogger(__name__)

VERSION = "1"
HEALTH_ITEMS = (
    "CAMERA_MOVED",
    "CAMERA_BLACK",
    "CAMERA_FROZEN",
    "CAMERA_OBSTRUCTED",
    "CAMERA_DEFOCUSED",
)
"""The camera-health items (category 设备), shown on the camera health page and in the
nightly summary."""
MOVED, BLACK, FROZEN, OBSTRUCTED, DEFOCUSED = HEALTH_ITEMS

Flags = npt.NDArray[np.bool_]


class HealthParams(TimedParams):
    """Timing shared by the camera-health items (a minute of a faulty picture is a finding)."""

    min_duration_s: float = Field(
        default=60.0,
        ge=0.0,
        le=86_400.0,
        description="Shortest stretch (seconds) that counts as a finding.",
    )
    cooldown_s: float = Field(
        default=0.0,
        ge=0.0,
        le=86_400.0,
        description="After a finding, the same fault is not reported again for this long.",
    )


class BlankParams(HealthParams):
    """CAMERA_BLACK: a black or uniform picture."""

    max_contrast: float = Field(
        default=0.02,
        ge=0.0,
        le=1.0,
        description="Grey standard deviation (0–1) below which the picture is uniform.",
    )
    max_black_luma: float = Field(
        default=0.08,
        ge=0.0,
        le=1.0,
        description="Mean grey level (0–1) below which a uniform picture is black.",
    )


class FrozenParams(HealthParams):
    """CAMERA_FROZEN: the same picture sample after sample."""

    merge_gap_s: float = Field(
        default=0.0,
        ge=0.0,
        le=3_600.0,
        description="Interruptions up to this long (seconds) do not split a stretch; a frozen "
        "picture has none (any sample that changed shows the channel live), so 0.",
    )

    max_change: float = Field(
        default=0.02,
        ge=0.0,
        le=1.0,
        description="Change between samples (0–1, see vision.health) below which the picture "
        "is frozen; re-encoding a frozen picture stays under 0.01, a live view with people, "
        "screens or light changes goes well over it.",
    )


class MovedParams(HealthParams):
    """CAMERA_MOVED: the view shifted against the clean reference."""

    max_shift: float = Field(
        default=0.02,
        gt=0.0,
        le=1.0,
        description="Median shift of the view (fraction of the frame width) above which the "
        "camera has moved and its zones no longer fit.",
    )


class ObstructedParams(HealthParams):
    """CAMERA_OBSTRUCTED: part of the view covered."""

    min_duration_s: float = Field(default=120.0, ge=0.0, le=86_400.0)
    min_covered: float = Field(
        default=0.3,
        gt=0.0,
        le=1.0,
        description="Share of the reference's textured area whose texture is gone.",
    )


class DefocusedParams(HealthParams):
    """CAMERA_DEFOCUSED: a blurred picture (out of focus, fogged or dirty lens)."""

    min_duration_s: float = Field(default=300.0, ge=0.0, le=86_400.0)
    max_sharpness: float = Field(
        default=0.5,
        gt=0.0,
        le=1.0,
        description="Fine detail relative to the clean reference below which the picture is "
        "blurred.",
    )


def _measures(timeline: ObservationTimeline) -> CameraHealth:
    return timeline.health or CameraHealth.unknown(timeline.num_samples)


def _blank(h: CameraHealth, max_contrast: float = BlankParams().max_contrast) -> Flags:
    return np.asarray(h.contrast < max_contrast, np.bool_)


def _report(
    item: str,
    timeline: ObservationTimeline,
    ctx: RuleContext,
    params: HealthParams,
    flag: Flags,
    describe: Callable[[int, int], dict[str, object]],
) -> list[Event]:
    """Events for the stretches of flagged samples that were looked at and last long enough.

    ``describe(first, last)`` gives the details of the stretch between two sample indices.
    """
    looked, segment, seg_end = looked_at(timeline, ctx)
    runs = find_runs(
        timeline.ts,
        flag & looked,
        np.where(looked, segment, -1),
        seg_end,
        interval_s=ctx.interval_s,
        merge_gap_s=params.merge_gap_s,
    )
    runs = runs.select(runs.duration >= params.min_duration_s)
    details = [describe(int(a), int(b)) for a, b in zip(runs.first, runs.last, strict=True)]
    return build_events(
        item, VERSION, timeline, ctx, runs, cooldown_s=params.cooldown_s, run_details=details
    )


def _pct(values: npt.NDArray[np.float32]) -> float:
    finite = values[np.isfinite(values)]
    return round(float(np.median(finite)) * 100, 1) if len(finite) else float("nan")


@register(BLACK, BlankParams, VERSION, uses_zones=False, withholds=True)
def camera_black(
    timeline: ObservationTimeline, ctx: RuleContext, params: BlankParams
) -> list[Event]:
    """A black or uniform picture (lens covered, signal lost, channel recording nothing)."""
    h = _measures(timeline)

    def describe(a: int, b: int) -> dict[str, object]:
        luma = float(np.nanmean(h.luma[a : b + 1]))
        return {"black": luma < params.max_black_luma, "mean_luma": round(luma, 3)}

    return _report(BLACK, timeline, ctx, params, _blank(h, params.max_contrast), describe)


@register(FROZEN, FrozenParams, VERSION, uses_zones=False, withholds=True)
def camera_frozen(
    timeline: ObservationTimeline, ctx: RuleContext, params: FrozenParams
) -> list[Event]:
    """The same picture sample after sample (a frozen channel; a black one is reported as
    black, not frozen)."""
    h = _measures(timeline)
    # A file's first sample has nothing to compare with: it continues the stretch before it.
    unchanged = hold_forward(
        np.asarray(h.change < params.max_change, np.bool_), np.isfinite(h.change)
    )
    flag = unchanged & ~_blank(h)

    def describe(a: int, b: int) -> dict[str, object]:
        return {"max_change": round(float(np.nanmax(h.change[a : b + 1])), 5)}

    return _report(FROZEN, timeline, ctx, params, flag, describe)


@register(MOVED, MovedParams, VERSION, uses_zones=False, withholds=True)
def camera_moved(
    timeline: ObservationTimeline, ctx: RuleContext, params: MovedParams
) -> list[Event]:
    """The view shifted against the clean reference: the camera was knocked or re-aimed and
    the zones drawn on the reference no longer fit. Samples that could not be registered
    (black, covered) neither start nor break a stretch on their own."""
    h = _measures(timeline)
    known = np.isfinite(h.shift)
    moved = known & (np.nan_to_num(h.shift) > params.max_shift)
    flag = hold_forward(moved, known)  # unregistrable: as the last registered sample

    def describe(a: int, b: int) -> dict[str, object]:
        part = slice(a, b + 1)
        return {
            "shift_pct": _pct(h.shift[part]),
            "zone_shift_pct": _pct(h.zone_shift[part]),
            "rotation_deg": round(float(np.nanmedian(h.rotation[part])), 2)
            if np.isfinite(h.rotation[part]).any()
            else None,
            "zones_fit": False,
            "max_shift_pct": round(params.max_shift * 100, 1),
        }

    return _report(MOVED, timeline, ctx, params, flag, describe)


@register(OBSTRUCTED, ObstructedParams, VERSION, uses_zones=False, withholds=True)
def camera_obstructed(
    timeline: ObservationTimeline, ctx: RuleContext, params: ObstructedParams
) -> list[Event]:
    """Part of the view lost its texture against the reference: something covers the lens
    (a black or uniform picture is reported as black)."""
    h = _measures(timeline)
    flag = np.asarray(h.covered >= params.min_covered, np.bool_) & ~_blank(h)

    def describe(a: int, b: int) -> dict[str, object]:
        return {"covered_pct": _pct(h.covered[a : b + 1])}

    return _report(OBSTRUCTED, timeline, ctx, params, flag, describe)


@register(DEFOCUSED, DefocusedParams, VERSION, uses_zones=False)
def camera_defocused(
    timeline: ObservationTimeline, ctx: RuleContext, params: DefocusedParams
) -> list[Event]:
    """Fine detail well below the reference's: out of focus, fogged or dirty (a black or
    covered picture is reported as such)."""
    h = _measures(timeline)
    flag = (
        np.asarray(h.sharpness < params.max_sharpness, np.bool_)
        & ~_blank(h)
        & ~np.asarray(h.covered >= ObstructedParams().min_covered, np.bool_)
    )

    def describe(a: int, b: int) -> dict[str, object]:
        return {"sharpness_pct": _pct(h.sharpness[a : b + 1])}

    return _report(DEFOCUSED, timeline, ctx, params, flag, describe)
