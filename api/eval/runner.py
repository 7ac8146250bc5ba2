"""Run every labelled item through the scan's per-unit worker and through a naive baseline.

The pipeline side is the scan's own code: one :class:`api.scan.worker.WorkerState` (the
worker a scan process or Ray actor holds) analyses each item as a unit of a one-branch site
whose cameras carry the items' zones; its timeline is read back from the unit's ``.npz`` bytes
exactly as the scan's driver stores it. Presence is turned into events with the rules'
own time-series steps (:func:`rules.timeseries.hold_forward`, :func:`rules.timeseries.find_runs`).

The baseline is what one would write in an afternoon: ``ultralytics`` ``predict`` with the
same weights, inference size and confidence on the same sampled frames, a person counted per
box and in a zone when the zone's anchor point (feet, centre or head, computed as the scan
does) lies in the polygon; no motion gate, tracking, roles or posture.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from api.config import BranchConfig, SiteConfig
from api.eval.labels import LabelSet
from api.scan.worker import Outcome, UnitJob, load_worker
from rules.timeseries import find_runs, hold_forward
from vision.config import CameraConfig, ClutterConfig
from vision.config.zone import ZoneConfig
from vision.sampler import sample_frames
from vision.timeline import ObservationTimeline
from vision.types import FrameDetections
from vision.weights import resolve_weights
from vision.zones import anchor_points

logger = logging.getLogger(__name__)

EVAL_BRANCH = "eval"
ITEM_START = datetime(2026, 1, 1, tzinfo=UTC)
"""Wall clock given to each item's first frame; item times are seconds after it."""

F32 = npt.NDArray[np.float32]
I8 = npt.NDArray[np.int8]


@dataclass(frozen=True)
class Seen:
    """What one method saw in one item, per sample.

    Attributes:
        ts: Seconds from the item's start.
        end_s: End of the looked-at footage (last sample plus one interval).
        count: People counted.
        in_zone: Per zone id, whether someone was in it.
        boxes: Normalised ``(k, 4)`` boxes of the people of each sample.
        flags: Posture flags ``(k, P)`` (-1/0/1) of those people; ``None`` when the method
            has no posture.
        wall_s: Seconds the method took on the item.
    """

    ts: npt.NDArray[np.float64]
    end_s: float
    count: npt.NDArray[np.int64]
    in_zone: dict[str, npt.NDArray[np.bool_]]
    boxes: list[F32]
    flags: list[I8] | None
    wall_s: float

    def events(self, zone: str, interval_s: float) -> list[tuple[float, float]]:
        """Stretches with someone in ``zone``, joined like the rules join samples."""
        flag = self.in_zone[zone]
        runs = find_runs(
            self.ts,
            flag,
            np.zeros(len(self.ts), np.int64),
            np.full(len(self.ts), self.end_s),
            interval_s=interval_s,
        )
        return [(float(s), float(e)) for s, e in zip(runs.start, runs.end, strict=True)]


@dataclass(frozen=True)
class Failure:
    """An item a method could not analyse, and why."""

    reason: str


def eval_site(base: SiteConfig, labels: LabelSet) -> SiteConfig:
    """A one-branch site with one camera per item (its zones), the base's sampling and
    detector. The static-object layer is off: no label scores it yet."""
    cameras = [CameraConfig(id=item.id, zones=item.zones) for item in labels.items]
    return SiteConfig(
        sampling=base.sampling,
        detector=base.detector,
        clutter=ClutterConfig(enabled=False),
        branches=[BranchConfig(id=EVAL_BRANCH, name=labels.name, cameras=cameras)],
    )


def _seen_from_timeline(timeline: ObservationTimeline, wall_s: float) -> Seen:
    t0 = ITEM_START.timestamp()
    n_samples = timeline.num_samples
    source = hold_forward(np.arange(n_samples), timeline.inferred)
    everyone = np.ones(len(timeline.sample), np.bool_)
    count = hold_forward(timeline.count_per_sample(everyone).astype(np.int64), timeline.inferred)
    in_zone = {}
    for col, zone in enumerate(timeline.zones):
        present = np.bincount(timeline.sample[timeline.in_zone[:, col]], minlength=n_samples) > 0
        in_zone[zone.id] = hold_forward(present, timeline.inferred)
    bounds = np.searchsorted(timeline.sample, np.arange(n_samples + 1))
    boxes = [timeline.xyxy[bounds[s] : bounds[s + 1]] for s in source]
    flags = [timeline.posture[bounds[s] : bounds[s + 1]] for s in source]
    end = float(timeline.coverage[-1, 1]) - t0 if len(timeline.coverage) else 0.0
    return Seen(timeline.ts - t0, end, count, in_zone, boxes, flags, wall_s)


def run_pipeline(
    site: SiteConfig,
    labels: LabelSet,
    root: Path,
    threads: int,
    on_item: Callable[[str], None] | None = None,
) -> dict[str, Seen | Failure]:
    """Analyse every item with the scan's worker; an item that fails is reported, not raised."""
    worker = load_worker(site, threads)
    out: dict[str, Seen | Failure] = {}
    with tempfile.TemporaryDirectory(prefix="branchwatch-eval-") as tmp:
        for n, item in enumerate(labels.items):
            t0 = time.perf_counter()
            job = UnitJob(n, str(root / item.file), EVAL_BRANCH, item.id, ITEM_START)
            result = worker.analyse(job)
            if result.outcome is not Outcome.OK:
                out[item.id] = Failure(result.reason)
                continue
            path = Path(tmp) / f"{item.id}.npz"
            path.write_bytes(result.timeline)
            timeline = ObservationTimeline.load(path)
            out[item.id] = _seen_from_timeline(timeline, time.perf_counter() - t0)
            if on_item is not None:
                on_item(item.id)
    return out


def _inside(zone: ZoneConfig, dets: FrameDetections) -> bool:
    """Whether the zone's anchor point of any detected person lies in its polygon."""
    h, w = dets.frame_shape
    polygon = (np.array(zone.polygon) * (w, h)).astype(np.float32).reshape(-1, 1, 2)
    return any(
        cv2.pointPolygonTest(polygon, (float(x), float(y)), False) >= 0
        for x, y in anchor_points(dets, zone.anchor)
    )


def run_baseline(
    site: SiteConfig,
    labels: LabelSet,
    root: Path,
    on_item: Callable[[str], None] | None = None,
) -> dict[str, Seen | Failure]:
    """Plain ``ultralytics`` predict on the same sampled frames (see the module docstring)."""
    from ultralytics import YOLO  # type: ignore[attr-defined]

    det = site.detector
    model = YOLO(str(resolve_weights(det.model, det.models_dir)), task="pose")
    interval = site.sampling.interval_s
    out: dict[str, Seen | Failure] = {}
    for item in labels.items:
        t0 = time.perf_counter()
        try:
            frames = list(
                sample_frames(root / item.file, item.id, ITEM_START, interval, out_size=det.imgsz)
            )
        except Exception as exc:  # noqa: BLE001  (reported per item like the worker does)
            out[item.id] = Failure(f"{type(exc).__name__}: {exc}")
            continue
        found: list[FrameDetections] = []
        for i in range(0, len(frames), det.batch):
            chunk = frames[i : i + det.batch]
            results = model.predict(
                [f.image for f in chunk],
                imgsz=det.imgsz,
                conf=det.confidence,
                classes=[0],
                device="cpu",
                verbose=False,
            )
            found += [
                FrameDetections.from_ultralytics(r, item.id, f.index, f.ts)
                for r, f in zip(results, chunk, strict=True)
            ]
        ts = np.array([f.ts.timestamp() for f in frames]) - ITEM_START.timestamp()
        out[item.id] = Seen(
            ts=ts,
            end_s=float(ts[-1]) + interval if len(ts) else 0.0,
            count=np.array([len(d.xyxy) for d in found], np.int64),
            in_zone={z.id: np.array([_inside(z, d) for d in found], np.bool_) for z in item.zones},
            boxes=[d.normalized_xyxy() for d in found],
            flags=None,
            wall_s=time.perf_counter() - t0,
        )
        if on_item is not None:
            on_item(item.id)
    return out
