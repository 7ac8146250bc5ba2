"""Intended findings of a synthetic scenario, derived from the script geometry and the zones.

A :class:`Finding` is something the footage is meant to show (an absence, crowding, clutter…)
with its interval. Findings are computed, not typed in: :func:`occupancy` tests the anchor point
of each actor's drawn box against a zone polygon, so the findings stay true to what is drawn.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from vision.config import ZoneConfig
from vision.config.zone import Anchor
from vision.synth.script import CameraScript
from vision.synth.truth import actor_boxes

logger = logging.getLogger(__name__)

Point = tuple[float, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """Something the demo footage is meant to show, with the interval it holds.

    Attributes:
        item: Inspection item code (or ``MISSING_FOOTAGE`` for a hole in the files).
        camera: Camera id.
        start: Start of the interval.
        end: End of the interval.
        expected: Whether the demo's rules should report it (``False``: a near miss, such as
            an absence shorter than the grace period).
        zone: Zone id involved.
        window_id: Counter window involved.
        note: What happens.
    """

    item: str
    camera: str
    start: datetime
    end: datetime
    expected: bool
    zone: str | None = None
    window_id: str | None = None
    note: str = ""


def inside_polygon(
    points: npt.NDArray[np.float64],
    polygon: list[Point],
) -> npt.NDArray[np.bool_]:
    """Which points ``(n, 2)`` lie inside a polygon (even-odd rule); NaN points are outside."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), bool)
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < at)
    return inside


def zone_anchor(boxes: npt.NDArray[np.float32], anchor: Anchor) -> npt.NDArray[np.float64]:
    """Anchor points ``(..., 2)`` of boxes ``(..., 4)`` for a zone's anchor kind."""
    b = boxes.astype(np.float64)
    cx = (b[..., 0] + b[..., 2]) / 2
    y = {
        Anchor.FEET: b[..., 3],
        Anchor.CENTER: (b[..., 1] + b[..., 3]) / 2,
        Anchor.HEAD: b[..., 1],
    }[anchor]
    return np.stack([cx, y], axis=-1)


def occupancy(
    script: CameraScript,
    zone: ZoneConfig,
    t: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """Which actors ``(A, T)`` are inside ``zone`` at times ``t``, by their drawn boxes."""
    boxes = actor_boxes(script, t)
    points = zone_anchor(boxes, zone.anchor).reshape(-1, 2)
    return inside_polygon(points, list(zone.polygon)).reshape(boxes.shape[:2])


def runs(mask: npt.NDArray[np.bool_], t: npt.NDArray[np.float64]) -> list[tuple[float, float]]:
    """``[start, end)`` intervals of consecutive true samples."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    step = float(t[1] - t[0]) if len(t) > 1 else 1.0
    return [
        (float(t[a]), float(t[b - 1]) + step) for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def findings_json(findings: tuple[Finding, ...]) -> str:
    """The findings as a JSON list."""
    return json.dumps(
        [
            {
                "item": f.item,
                "camera": f.camera,
                "start": f.start.isoformat(),
                "end": f.end.isoformat(),
                "expected": f.expected,
                "zone": f.zone,
                "window_id": f.window_id,
                "note": f.note,
            }
            for f in findings
        ],
        ensure_ascii=False,
        indent=1,
    )
