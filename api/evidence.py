"""Evidence of stored events: the still (and later the clip) written next to the run."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from rules.types import Event
from vision.clips import ClipError, FaceTrack, write_clip
from vision.config import CameraConfig
from vision.evidence import Overlay, draw_overlay, write_jpeg
from vision.timeline import ObservationTimeline
from vision.types import Role

logger = logging.getLogger(__name__)

ROLE_NAMES = {
    Role.UNKNOWN: "未知",
    Role.CUSTOMER: "客户",
    Role.TELLER: "柜员",
    Role.LOBBY_MANAGER: "大堂经理",
    Role.GUARD: "保安",
}


def item_name(code: str) -> str:
    """中文 name of an inspection item from the standard, e.g. 大堂经理不在岗."""
    from rules.standard import load_catalog

    spec = load_catalog().items.get(code)
    return spec.name if spec is not None else code


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def still_overlay(
    event: Event,
    timeline: ObservationTimeline,
    camera: CameraConfig,
    ts: datetime,
    title: str,
) -> tuple[Overlay, np.ndarray]:
    """Overlay for the sample nearest ``ts``, and the customers' face boxes to blur."""
    at = float(ts.timestamp())
    rows = np.zeros(0, np.intp)
    if timeline.num_samples:
        i = int(np.clip(np.searchsorted(timeline.ts, at), 0, timeline.num_samples - 1))
        if i > 0 and abs(timeline.ts[i - 1] - at) < abs(timeline.ts[i] - at):
            i -= 1
        rows = np.flatnonzero(timeline.sample == i)
    labels = [
        f"{ROLE_NAMES[Role(int(timeline.role[r]))]} #{int(timeline.track_id[r])}" for r in rows
    ]
    customers = rows[timeline.role[rows] != int(Role.TELLER)]
    customers = customers[
        np.isin(timeline.role[customers], [int(Role.CUSTOMER), int(Role.UNKNOWN)])
    ]
    overlay = Overlay(
        zones=[(z.name or z.id, z.polygon) for z in camera.zones],
        boxes=timeline.xyxy[rows],
        labels=labels,
        highlight=event.box,
        title=title,
    )
    return overlay, timeline.face_xyxy[customers]


def write_event_evidence(
    event: Event,
    video: Any,
    timeline: ObservationTimeline,
    camera: CameraConfig,
    work_dir: Path,
    title: str | None = None,
) -> dict[str, Any]:
    """Write the still of an event and return the evidence record stored with it.

    Customers' faces are blurred. Failure to read the frame is logged and yields no still;
    the event itself is still stored.
    """
    from vision.faces import blur_faces
    from vision.probe import VideoError
    from vision.sampler import read_frame_at

    ts = event.evidence_ts or event.start
    try:
        image = read_frame_at(video.path, video.start_ts, ts)
    except (VideoError, OSError) as exc:
        logger.warning("no still for %s at %s: %s", event.item, ts, exc)
        return {}
    local = ts.astimezone(event.start.tzinfo)
    overlay, faces = still_overlay(
        event,
        timeline,
        camera,
        ts,
        title or f"{item_name(event.item)}  {camera.name or camera.id}  {local:%Y-%m-%d %H:%M:%S}",
    )
    h, w = image.shape[:2]
    faces = faces[~np.isnan(faces).any(axis=1)]
    image = blur_faces(image, faces * np.array([w, h, w, h], np.float32))
    still = draw_overlay(image, overlay)
    path = work_dir / "evidence" / event.key / "still.jpg"
    write_jpeg(path, still)
    return {"still": str(path), "still_sha256": sha256_file(path)}


def write_event_clip(
    event: Event,
    video: Any,
    timeline: ObservationTimeline,
    work_dir: Path,
    before_s: float = 4.0,
    after_s: float = 4.0,
    max_s: float = 40.0,
) -> dict[str, Any]:
    """Write the evidence clip of an event and return the evidence fields to store with it.

    The clip runs from ``before_s`` before the event to ``after_s`` after it; a longer span is
    cut to ``max_s`` centred on the evidence time. It never leaves the video. Customers' faces
    (non-staff rows of the timeline) are pixelated. Failure to cut the clip is logged and yields
    no clip; the event itself is still stored.

    Args:
        event: The finding.
        video: Stored video row holding it (``path``, ``start_ts``, ``end_ts``).
        timeline: Observations of the camera (for the face boxes).
        work_dir: Folder of the run; the clip goes to ``evidence/<key>/clip.mp4``.
        before_s: Seconds of context before the event.
        after_s: Seconds of context after the event.
        max_s: Longest clip in seconds.

    Returns:
        ``clip``, ``clip_sha256``, ``clip_start`` and ``clip_end`` (ISO times), or ``{}``.
    """
    start = event.start - timedelta(seconds=before_s)
    end = event.end + timedelta(seconds=after_s)
    if (end - start).total_seconds() > max_s:
        centre = event.evidence_ts or event.start
        start, end = centre - timedelta(seconds=max_s / 2), centre + timedelta(seconds=max_s / 2)
    start = max(start, video.start_ts)
    if video.end_ts is not None:
        end = min(end, video.end_ts)
    path = work_dir / "evidence" / event.key / "clip.mp4"
    faces = FaceTrack.from_timeline(timeline, start.timestamp(), end.timestamp())
    try:
        info = write_clip(Path(video.path), video.start_ts, start, end, path, faces)
    except (ClipError, OSError) as exc:
        logger.warning("no clip for %s at %s: %s", event.item, event.start, exc)
        return {}
    return {
        "clip": str(path),
        "clip_sha256": sha256_file(path),
        "clip_start": info.start.isoformat(),
        "clip_end": info.end.isoformat(),
    }
