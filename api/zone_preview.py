"""What redrawn zones would change on the last night: samples each zone would have held and
the events that would appear or go, from the stored observation timelines (no video).

People are stored with their normalised boxes, so new zones are tested on the boxes' anchor
points (:meth:`vision.zones.CompiledZones.trigger`) exactly as the scan would, and the rules
run once with the zones in force and once with the drawn ones.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from rules.engine import run_rules
from rules.registry import RuleContext, RuleParams
from rules.types import Event
from vision.config import CameraConfig
from vision.timeline import NUM_SCREEN_MEASURES, SCREEN_KIND, ObservationTimeline
from vision.types import FrameDetections
from vision.zones import CompiledZones

logger = logging.getLogger(__name__)

PREVIEW_SHAPE = (1080, 1920)
"""Frame size the drawn zones are rasterised at for the preview."""


@dataclass(frozen=True)
class ZonePreview:
    """The drawn zones against the last night.

    Attributes:
        samples: Per drawn zone id, samples with at least one person in it.
        current_samples: The same for the zones in force.
        added: Events the drawn zones would add.
        removed: Events they would no longer report.
        total_samples: Samples of the night.
    """

    samples: dict[str, int]
    current_samples: dict[str, int]
    added: list[Event] = field(default_factory=list)
    removed: list[Event] = field(default_factory=list)
    total_samples: int = 0


def rezoned(timeline: ObservationTimeline, camera: CameraConfig) -> ObservationTimeline:
    """The timeline with zone membership tested against ``camera``'s zones."""
    h, w = PREVIEW_SHAPE
    n = len(timeline.sample)
    dets = FrameDetections(
        xyxy=(timeline.xyxy * np.array([w, h, w, h], np.float32)).astype(np.float32),
        confidence=np.ones(n, np.float32),
        class_id=np.zeros(n, np.int32),
        track_id=timeline.track_id.astype(np.int64),
        keypoints=np.zeros((n, 0, 3), np.float32),
        frame_shape=PREVIEW_SHAPE,
        camera=timeline.camera,
        frame_index=0,
        ts=datetime.now(UTC),
    )
    zones = CompiledZones.from_camera(camera, PREVIEW_SHAPE)
    infos = zones.zone_infos()
    screens = sum(z.kind == SCREEN_KIND for z in infos)
    screen = (
        timeline.screen
        if timeline.screen.shape[1] == screens
        else np.full((timeline.num_samples, screens, NUM_SCREEN_MEASURES), np.nan, np.float32)
    )  # screens redrawn: their measures are the scan's to take
    return dataclasses.replace(timeline, zones=infos, in_zone=zones.trigger(dets), screen=screen)


def samples_per_zone(timeline: ObservationTimeline) -> dict[str, int]:
    """Samples with at least one person in each zone."""
    out: dict[str, int] = {}
    for i, zone in enumerate(timeline.zones):
        inside = np.unique(timeline.sample[timeline.in_zone[:, i]])
        out[zone.id] = len(inside)
    return out


def preview_zones(
    timeline: ObservationTimeline,
    drawn: CameraConfig,
    ctx: RuleContext,
    params: Mapping[str, RuleParams],
) -> ZonePreview:
    """Compare the zones in force (the timeline's) with ``drawn`` over one night."""
    proposed = rezoned(timeline, drawn)
    before = {e.key: e for e in run_rules(timeline, ctx, params)}
    after_events = run_rules(proposed, ctx, params)
    after = {e.key: e for e in after_events}

    def same(e: Event, pool: Mapping[str, Event]) -> bool:
        return any((o.item, o.start, o.end) == (e.item, e.start, e.end) for o in pool.values())

    return ZonePreview(
        samples=samples_per_zone(proposed),
        current_samples=samples_per_zone(timeline),
        added=[e for e in after.values() if not same(e, before)],
        removed=[e for e in before.values() if not same(e, after)],
        total_samples=timeline.num_samples,
    )
