"""Evidence of events: the still and the clip, written next to the run, with their sha256.

The still is the event's representative frame; the clip shows ``before_s`` of context, the
whole event and ``after_s`` after it, sped up when that would not play in ``max_clip_s``
(:class:`api.config.EvidenceConfig`). Both draw the people seen (boxed, with their role) and the
camera's zones, and pixelate customers' faces. Evidence that cannot be made (the export gone, a
corrupt stretch) is recorded on the event as a named :class:`EvidenceProblem`; the event is kept.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from api.config import EvidenceConfig
from api.db.models import Video
from api.labels import ROLE_NAMES
from rules.standard import item_name
from rules.types import Event
from vision.clips import ClipError, ClipSource, ClipSpan, ClipStyle, FaceTrack, write_clip
from vision.config import CameraConfig
from vision.digest import file_sha256
from vision.evidence import Overlay, draw_overlay, write_jpeg
from vision.timeline import ObservationTimeline
from vision.types import Role

logger = logging.getLogger(__name__)

EVIDENCE_DIR = "evidence"
"""Folder under the work folder holding one folder of evidence per event key."""


class EvidenceProblem(StrEnum):
    """Why a piece of evidence could not be made; stored as ``<kind>_problem`` on the event."""

    SOURCE_MISSING = "source_missing"
    """The export file is no longer where it was scanned."""
    SOURCE_UNREADABLE = "source_unreadable"
    """The export cannot be opened or decoded."""
    NO_FRAMES = "no_frames"
    """The export holds no frame in the event's stretch (cut short, corrupt range)."""


@dataclass
class ClipCost:
    """Evidence clips cut and the wall time spent cutting them."""

    written: int = 0
    failed: int = 0
    seconds: float = 0.0

    def add(self, other: ClipCost) -> None:
        """Add another part's clips to these."""
        self.written += other.written
        self.failed += other.failed
        self.seconds += other.seconds


@dataclass
class EvidenceRecord:
    """The evidence fields stored with an event, and what cutting its clip cost."""

    fields: dict[str, Any] = field(default_factory=dict)
    cost: ClipCost = field(default_factory=ClipCost)


@dataclass(frozen=True)
class EvidenceSource:
    """Where an event's evidence comes from: its export, the camera's observations and setup.

    Attributes:
        export: The export file holding the event, and the time of its first frame.
        export_end: Time of its last frame, if known.
        timeline: Observations of the camera (people, roles, faces).
        camera: The camera's configuration (its zones).
        work_dir: Work folder; the evidence goes to ``evidence/<event key>/``.
    """

    export: ClipSource
    export_end: datetime | None
    timeline: ObservationTimeline
    camera: CameraConfig
    work_dir: Path

    @classmethod
    def of_video(
        cls, video: Video, timeline: ObservationTimeline, camera: CameraConfig, work_dir: Path
    ) -> EvidenceSource | None:
        """The source of a stored video; ``None`` for a video without a known start."""
        if video.start_ts is None:
            return None
        export = ClipSource(Path(video.path), video.start_ts)
        return cls(export, video.end_ts, timeline, camera, work_dir)


def evidence_folder(work_dir: Path, key: str) -> Path:
    """The folder of one event's evidence files."""
    return work_dir / EVIDENCE_DIR / key


def _sample_rows(timeline: ObservationTimeline, at: float) -> npt.NDArray[np.intp]:
    """Rows of the sample nearest ``at`` (epoch seconds)."""
    if not timeline.num_samples:
        return np.zeros(0, np.intp)
    i = int(np.clip(np.searchsorted(timeline.ts, at), 0, timeline.num_samples - 1))
    if i > 0 and abs(timeline.ts[i - 1] - at) < abs(timeline.ts[i] - at):
        i -= 1
    lo, hi = np.searchsorted(timeline.sample, [i, i + 1])
    return np.arange(lo, hi, dtype=np.intp)


def still_overlay(
    event: Event, timeline: ObservationTimeline, camera: CameraConfig, at: float, title: str
) -> Overlay:
    """People (boxed, with role and track), zones and the event's region at time ``at``."""
    rows = _sample_rows(timeline, at)
    labels = [
        f"{ROLE_NAMES[Role(int(timeline.role[r])).name.lower()]} #{int(timeline.track_id[r])}"
        for r in rows
    ]
    return Overlay(
        zones=[(z.name or z.id, z.polygon) for z in camera.zones],
        boxes=timeline.xyxy[rows],
        labels=labels,
        highlight=event.box,
        title=title,
    )


def _title(event: Event, camera: CameraConfig, ts: datetime) -> str:
    local = ts.astimezone(event.start.tzinfo)
    return f"{item_name(event.item)}  {camera.name or camera.id}  {local:%Y-%m-%d %H:%M:%S}"


def write_still(event: Event, source: EvidenceSource) -> dict[str, Any]:
    """Write the still of an event; the evidence fields of the still (or of its problem)."""
    from vision.probe import VideoError
    from vision.sampler import read_frame_at

    ts = event.evidence_ts or event.start
    try:
        image = read_frame_at(str(source.export.path), source.export.start, ts)
    except (VideoError, OSError) as exc:
        logger.warning("no still for %s at %s: %s", event.item, ts, exc)
        return _problem("still", source.export.path, str(exc))
    at = ts.timestamp()
    overlay = still_overlay(
        event, source.timeline, source.camera, at, _title(event, source.camera, ts)
    )
    image = FaceTrack.from_timeline(source.timeline, at, at).blur(image, at)
    path = evidence_folder(source.work_dir, event.key) / "still.jpg"
    write_jpeg(path, draw_overlay(image, overlay))
    return {"still": str(path), "still_sha256": file_sha256(path)}


def clip_spans(event: Event, source: EvidenceSource, config: EvidenceConfig) -> list[ClipSpan]:
    """The stretches a clip shows: context and event in real time when they fit in
    ``max_clip_s``; otherwise the event sped up between real-time context (all in the export)."""
    lo = source.export.start
    hi = source.export_end or event.end + timedelta(seconds=config.after_s)
    start = max(event.start - timedelta(seconds=config.before_s), lo)
    end = min(event.end + timedelta(seconds=config.after_s), hi)
    body_start, body_end = max(event.start, lo), min(event.end, hi)
    if (end - start).total_seconds() <= config.max_clip_s or body_end <= body_start:
        return [ClipSpan(start, end)]
    before = (body_start - start).total_seconds()
    after = (end - body_end).total_seconds()
    body_out_s = config.max_clip_s - before - after
    speed = (body_end - body_start).total_seconds() / body_out_s
    spans = [ClipSpan(start, body_start)] if before > 0 else []
    spans.append(ClipSpan(body_start, body_end, speed))
    if after > 0:
        spans.append(ClipSpan(body_end, end))
    return spans


@dataclass(frozen=True)
class ClipFrames:
    """What is drawn on each frame of an event's clip: faces pixelated, people and zones,
    a caption with the time and, while sped up, the speed."""

    event: Event
    source: EvidenceSource
    faces: FaceTrack
    config: EvidenceConfig

    def __call__(
        self, image: npt.NDArray[np.uint8], t: float, speed: float
    ) -> npt.NDArray[np.uint8]:
        if self.config.blur_faces:
            image = self.faces.blur(image, t)
        if not self.config.overlay:
            return image
        ts = datetime.fromtimestamp(t, self.event.start.tzinfo)
        title = _title(self.event, self.source.camera, ts)
        if speed > 1.0:
            title += f"  {speed:.0f}倍速快放"
        overlay = still_overlay(self.event, self.source.timeline, self.source.camera, t, title)
        return draw_overlay(image, overlay)


def write_event_clip(
    event: Event, source: EvidenceSource, config: EvidenceConfig
) -> EvidenceRecord:
    """Cut the clip of an event; its evidence fields (or its problem) and what it cost.

    A clip already written for the event (a crashed run) is cut again; a bounded clip bigger
    than ``max_mb`` is cut once more at half the width and lower quality.
    """
    spans = clip_spans(event, source, config)
    path = evidence_folder(source.work_dir, event.key) / "clip.mp4"
    faces = FaceTrack.from_timeline(
        source.timeline, spans[0].t0.timestamp(), spans[-1].t1.timestamp()
    )
    frames = ClipFrames(event, source, faces, config)
    style = ClipStyle(max_width=config.max_width, crf=config.crf, fast_fps=config.fast_fps)
    t0 = time.perf_counter()
    record = EvidenceRecord()
    try:
        info = write_clip(source.export, spans, path, frames, style)
        if path.stat().st_size > config.max_mb * 1e6:
            smaller = ClipStyle(style.max_width // 2, style.crf + 6, style.fast_fps)
            info = write_clip(source.export, spans, path, frames, smaller)
    except (ClipError, OSError) as exc:
        logger.warning("no clip for %s at %s: %s", event.item, event.start, exc)
        record.fields = _problem("clip", source.export.path, str(exc))
        record.cost = ClipCost(failed=1, seconds=time.perf_counter() - t0)
        return record
    record.cost = ClipCost(written=1, seconds=time.perf_counter() - t0)
    record.fields = {
        "clip": str(path),
        "clip_sha256": file_sha256(path),
        "clip_start": info.start.isoformat(),
        "clip_end": info.end.isoformat(),
        "clip_s": round(info.duration_s, 2),
        "clip_speed": round(max(s.speed for s in spans), 2),
    }
    return record


def _problem(kind: str, export: Path, detail: str) -> dict[str, Any]:
    if not export.exists():
        problem = EvidenceProblem.SOURCE_MISSING
    elif "no frame" in detail:
        problem = EvidenceProblem.NO_FRAMES
    else:
        problem = EvidenceProblem.SOURCE_UNREADABLE
    return {f"{kind}_problem": problem.value, f"{kind}_problem_detail": detail}


def write_evidence(event: Event, source: EvidenceSource, config: EvidenceConfig) -> EvidenceRecord:
    """The still and (unless turned off) the clip of a new event."""
    record = write_event_clip(event, source, config) if config.clips else EvidenceRecord()
    record.fields = {**write_still(event, source), **record.fields}
    return record
