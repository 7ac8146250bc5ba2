"""Things left lying about: clutter in the customer's view, litter in the self-service area.

Both read the static-object layer (``timeline.objects``): objects that stayed put against the
clean reference view, with the times they were first and last seen. Without that layer
(no objects), these rules find nothing.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
from pydantic import Field

from rules.items.base import ZoneKindName, build_events
from rules.registry import RuleContext, RuleParams, register
from rules.timeseries import column_runs
from rules.types import Event
from vision.timeline import ObservationTimeline
from vision.types import box_iou

logger = logging.getLogger(__name__)

VERSION = "2"


class ObjectParams(RuleParams):
    """CLUTTER_CUSTOMER_VIEW: objects that persist where customers can see them."""

    zones: tuple[ZoneKindName, ...] = Field(
        default=("customer_view",), min_length=1, description="Zone kinds checked."
    )
    labels: tuple[str, ...] = Field(
        default=(), description="Only these object labels count (empty: any label)."
    )
    ignore_labels: tuple[str, ...] = Field(
        default=("person",), description="Object labels that never count."
    )
    min_confidence: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Lowest object-detector confidence of a named object that counts (objects "
        "no detector named, 'unknown object', count by their persistence alone).",
    )
    max_area: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description="Largest object (fraction of the frame area) that counts.",
    )
    min_duration_s: float = Field(
        default=600.0,
        ge=0.0,
        le=86_400.0,
        description="Shortest time in business hours an object must stay (seconds).",
    )
    cooldown_s: float = Field(
        default=43_200.0,
        ge=0.0,
        le=604_800.0,
        description="The same object is reported again only after this long (seconds).",
    )
    same_object_iou: float = Field(
        default=0.5,
        gt=0.0,
        le=1.0,
        description="Box overlap from which two static objects of one zone are the same thing "
        "(e.g. the layer's object of one export file and of the next).",
    )
    same_object_gap_s: float = Field(
        default=120.0,
        ge=0.0,
        le=86_400.0,
        description="Longest time between one object's last and the other's first sighting "
        "for them to be the same thing (seconds).",
    )


class LitterParams(ObjectParams):
    """SELF_SERVICE_LITTER: small objects left on the floor of the self-service area."""

    zones: tuple[ZoneKindName, ...] = Field(
        default=("self_service",), min_length=1, description="Zone kinds checked."
    )
    max_area: float = Field(
        default=0.02,
        gt=0.0,
        le=1.0,
        description="Largest object (fraction of the frame area) that counts as litter.",
    )
    min_duration_s: float = Field(
        default=300.0,
        ge=0.0,
        le=86_400.0,
        description="Shortest time in business hours litter must lie (seconds).",
    )


def same_object_groups(
    first_seen: npt.NDArray[np.float64],
    last_seen: npt.NDArray[np.float64],
    boxes: npt.NDArray[np.float64],
    zones: npt.NDArray[np.int32],
    *,
    min_iou: float,
    max_gap_s: float,
) -> npt.NDArray[np.intp]:
    """Group static objects that are one thing seen in pieces (one per export file, say).

    An object joins the group of an earlier one in the same zone whose box it overlaps by
    ``min_iou`` and whose last sighting is at most ``max_gap_s`` before its first.

    Returns:
        ``(n,)`` group index per object; groups are numbered by their first object in time.

    Example:
        >>> b = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3]], np.float64)
        >>> same_object_groups(np.array([0.0, 302, 0]), np.array([300.0, 600, 50]), b,
        ...                    np.zeros(3, np.int32), min_iou=0.5, max_gap_s=10).tolist()
        [0, 0, 1]
    """
    n = len(first_seen)
    iou = box_iou(boxes, boxes)
    group = np.full(n, -1, np.intp)
    group_last: list[float] = []
    group_box: list[int] = []
    for i in np.argsort(first_seen, kind="stable").tolist():
        for g, (last, j) in enumerate(zip(group_last, group_box, strict=True)):
            gap = first_seen[i] - last
            if zones[i] == zones[j] and gap <= max_gap_s and iou[i, j] >= min_iou:
                group[i] = g
                group_last[g] = max(last, float(last_seen[i]))
                break
        else:
            group[i] = len(group_last)
            group_last.append(float(last_seen[i]))
            group_box.append(i)
    return group


def _object_events(
    item: str, timeline: ObservationTimeline, ctx: RuleContext, params: ObjectParams
) -> list[Event]:
    objs = timeline.objects
    if len(objs) == 0 or timeline.num_samples == 0:
        return []
    cols = timeline.zone_indices(*params.zones)
    box = objs.xyxy.astype(np.float64)
    area = np.clip(box[:, 2] - box[:, 0], 0, None) * np.clip(box[:, 3] - box[:, 1], 0, None)
    label_ok = ~np.isin(objs.label, np.array(params.ignore_labels, dtype=objs.label.dtype))
    if params.labels:
        label_ok &= np.isin(objs.label, np.array(params.labels, dtype=objs.label.dtype))
    chosen = np.flatnonzero(
        np.isin(objs.zone, cols)
        & label_ok
        & (~objs.named | (objs.confidence >= params.min_confidence))
        & (area <= params.max_area)
    )
    if len(chosen) == 0:
        return []
    groups = same_object_groups(
        objs.first_seen[chosen],
        objs.last_seen[chosen],
        box[chosen],
        objs.zone[chosen],
        min_iou=params.same_object_iou,
        max_gap_s=params.same_object_gap_s,
    )
    ts = timeline.ts[:, None]
    each = (ts >= objs.first_seen[chosen][None, :]) & (ts <= objs.last_seen[chosen][None, :])
    count = int(groups.max()) + 1
    present = np.stack([each[:, groups == g].any(axis=1) for g in range(count)], axis=1)
    chosen = chosen[[int(np.flatnonzero(groups == g)[0]) for g in range(count)]]
    runs = column_runs(
        timeline, ctx, present, merge_gap_s=0.0, min_duration_s=params.min_duration_s
    )
    return build_events(
        item,
        VERSION,
        timeline,
        ctx,
        runs,
        cooldown_s=params.cooldown_s,
        zone_of_group={
            i: timeline.zones[int(objs.zone[o])].id for i, o in enumerate(chosen.tolist())
        },
        box_of_group={
            i: (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
            for i, b in enumerate(box[chosen])
        },
        run_details=[
            {
                "label": str(objs.label[chosen[g]]),
                "confidence": round(float(objs.confidence[chosen[g]]), 3),
                "area": round(float(area[chosen[g]]), 5),
            }
            for g in runs.group
        ],
    )


@register("CLUTTER_CUSTOMER_VIEW", ObjectParams, VERSION)
def clutter_customer_view(
    timeline: ObservationTimeline, ctx: RuleContext, params: ObjectParams
) -> list[Event]:
    """Objects that stay in a customer-visible zone during business hours."""
    return _object_events("CLUTTER_CUSTOMER_VIEW", timeline, ctx, params)


@register("SELF_SERVICE_LITTER", LitterParams, VERSION)
def self_service_litter(
    timeline: ObservationTimeline, ctx: RuleContext, params: LitterParams
) -> list[Event]:
    """Small objects lying in the self-service area during business hours."""
    return _object_events("SELF_SERVICE_LITTER", timeline, ctx, params)
