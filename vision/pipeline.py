"""One export file → one observation timeline: sample, gate, detect in batches, track, build;
the camera's picture health is measured on the same decoded frames."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from vision.config import CameraConfig, ClutterConfig, SamplingConfig
from vision.detector import PoseDetector
from vision.health import HealthMonitor
from vision.motion import MotionGate
from vision.object_labels import ObjectLabeller
from vision.observe import TimelineBuilder
from vision.probe import VideoError
from vision.reference import ReferenceStill
from vision.sampler import SamplerStats, sample_frames
from vision.static_objects import StaticObjectLayer
from vision.timeline import ObservationTimeline
from vision.types import FrameDetections, SampledFrame

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClutterSetup:
    """How the static-object layer runs for a file (see :mod:`vision.static_objects`).

    Attributes:
        config: Thresholds and zone filters.
        reference: A still the user marked clean for this camera, if any.
        labeller: Optional object detector naming what a static object is.
        class_names: Class names of the labeller's output.
    """

    config: ClutterConfig
    reference: ReferenceStill | None = None
    labeller: ObjectLabeller | None = None
    class_names: Sequence[str] | None = None


@dataclass
class AnalysisStats:
    """Figures of one analysed file, reported in the scan summary and stored with the video."""

    duration_s: float = 0.0
    samples: int = 0
    inferred: int = 0
    corrupt_packets: int = 0
    truncated: bool = False
    decode_s: float = 0.0
    infer_s: float = 0.0
    wall_s: float = 0.0
    first_ts: float | None = None
    last_ts: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def x_realtime(self) -> float:
        return self.duration_s / self.wall_s if self.wall_s > 0 else 0.0

    def as_dict(self) -> dict[str, float | int | bool | None | list[str]]:
        return {
            "duration_s": round(self.duration_s, 3),
            "samples": self.samples,
            "inferred": self.inferred,
            "corrupt_packets": self.corrupt_packets,
            "truncated": self.truncated,
            "decode_s": round(self.decode_s, 3),
            "infer_s": round(self.infer_s, 3),
            "wall_s": round(self.wall_s, 3),
            "x_realtime": round(self.x_realtime, 2),
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "notes": self.notes,
        }


def analyse_file(
    path: str,
    branch: str,
    camera: CameraConfig,
    start: datetime,
    sampling: SamplingConfig,
    detector: PoseDetector,
    clutter: ClutterSetup | None = None,
    on_sample: Callable[[], None] | None = None,
) -> tuple[ObservationTimeline, AnalysisStats]:
    """Analyse one export file of a camera.

    Args:
        path: The export file.
        branch: Branch id.
        camera: Camera configuration (zones, uniforms).
        start: Wall-clock time of the file's first frame.
        sampling: Sampling interval and motion gate settings.
        detector: A loaded pose detector (reused across files of a worker).
        clutter: Static-object layer settings; ``None`` or disabled skips the layer.
        on_sample: Called after each sampled frame (progress reporting).

    Returns:
        The timeline of the file and its figures.

    Raises:
        vision.sampler.VideoError: the file cannot be opened or holds no decodable frame.
    """
    t0 = time.perf_counter()
    stats = AnalysisStats()
    sampler_stats = SamplerStats()
    gate = MotionGate(threshold=sampling.motion_threshold, max_hold_s=sampling.max_hold_s)
    builder: TimelineBuilder | None = None
    pending: list[tuple[SampledFrame, bool, float]] = []
    layer = (
        StaticObjectLayer(
            camera,
            clutter.config,
            reference=clutter.reference,
            detector=clutter.labeller,
            **({"class_names": clutter.class_names} if clutter.class_names else {}),
        )
        if clutter is not None and clutter.config.enabled
        else None
    )
    people: FrameDetections | None = None  # last inferred people, held by the motion gate
    health = HealthMonitor(camera, clutter.reference if clutter is not None else None)

    def flush() -> None:
        nonlocal builder, people
        to_infer = [f for f, infer, _ in pending if infer]
        t_inf = time.perf_counter()
        found = iter(detector.detect(to_infer)) if to_infer else iter(())
        stats.infer_s += time.perf_counter() - t_inf
        for frame, infer, measure in pending:
            if builder is None:
                builder = TimelineBuilder(branch, camera, frame.image.shape[:2])
            dets = next(found) if infer else None
            builder.add(frame, dets, measure)
            if dets is not None:
                people = dets
            if layer is not None:
                layer.update(
                    frame,
                    people
                    if people is not None
                    else FrameDetections.empty(
                        frame.image.shape[:2], camera.id, frame.index, frame.ts
                    ),
                )
        stats.inferred += len(to_infer)
        pending.clear()

    frames = sample_frames(
        path,
        camera.id,
        start,
        sampling.interval_s,
        out_size=detector.config.imgsz,
        threads=sampling.threads,
        stats=sampler_stats,
    )
    t_dec = time.perf_counter()
    try:
        for frame in frames:
            stats.decode_s += time.perf_counter() - t_dec
            health.update(frame)
            decision = gate.decide(frame.image, frame.ts.timestamp())
            pending.append((frame, decision.infer, decision.measure))
            stats.samples += 1
            if on_sample is not None:
                on_sample()
            if sum(1 for _, infer, _ in pending if infer) >= detector.config.batch:
                flush()
            t_dec = time.perf_counter()
        flush()
    finally:
        frames.close()
    stats.corrupt_packets = sampler_stats.corrupt_packets
    stats.truncated = sampler_stats.truncated
    if sampler_stats.first_ts is not None and sampler_stats.last_ts is not None:
        stats.first_ts = sampler_stats.first_ts.timestamp()
        stats.last_ts = sampler_stats.last_ts.timestamp()
    if builder is None or stats.first_ts is None or stats.last_ts is None:
        raise VideoError(path, "no decodable frame")
    covered_end = stats.last_ts + sampling.interval_s
    stats.duration_s = covered_end - stats.first_ts
    if stats.truncated:
        stats.notes.append("truncated: covered up to the last decodable frame")
    timeline = builder.build(np.array([[stats.first_ts, covered_end]], np.float64))
    timeline = dataclasses.replace(timeline, health=health.result())
    stats.notes.extend(health.notes)
    if layer is not None:
        timeline = dataclasses.replace(timeline, objects=layer.result())
    stats.wall_s = time.perf_counter() - t0
    return timeline, stats
