"""Evidence clips of ``branchwatch demo``: written by the scan for every event with a video,
digests that match, browser-playable H.264, and customers' faces pixelated (checked against
the footage's ground truth, which says who is a customer and where they are)."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from vision.sampler import read_frame_at
from vision.synth.truth import CameraTruth, load_truth
from vision.types import Role

SHARP = 0.6
"""Correlation of fine detail (high-pass) between a face in the clip and in the footage: an
untouched face keeps ~0.9, a pixelated one keeps almost none (~0.1)."""


@dataclass(frozen=True)
class DemoEvent:
    id: int
    item: str
    camera: str
    start: datetime
    video: str | None
    video_start: datetime | None
    evidence: dict[str, Any]


def _events(out: Path) -> list[DemoEvent]:
    import json

    with sqlite3.connect(out / "branchwatch.db") as conn:
        rows = conn.execute(
            "SELECT e.id, e.item, e.camera_id, e.start_ts, v.path, v.start_ts, e.evidence "
            "FROM events e LEFT JOIN videos v ON v.id = e.video_id ORDER BY e.id"
        ).fetchall()
    from datetime import UTC

    def ts(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None

    return [
        DemoEvent(i, item, cam, ts(start) or datetime.min, path, ts(vstart), json.loads(ev))
        for i, item, cam, start, path, vstart, ev in rows
    ]


def test_every_event_with_a_video_has_a_playable_clip(demo_run: tuple[Path, str]) -> None:
    out, console = demo_run
    events = [e for e in _events(out) if e.video is not None]
    assert len(events) >= 5
    for event in events:
        clip = Path(event.evidence["clip"])
        assert hashlib.sha256(clip.read_bytes()).hexdigest() == event.evidence["clip_sha256"]
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
            assert stream.duration is not None and stream.time_base is not None
            assert 1.0 < float(stream.duration * stream.time_base) < 30.0, event.item
        data = clip.read_bytes()
        assert data.index(b"moov") < data.index(b"mdat")  # faststart
        assert len(data) < 12e6
    assert f"evidence clips: {len(events)} written" in console


def _fine_detail_kept(clip: npt.NDArray[np.uint8], source: npt.NDArray[np.uint8]) -> float:
    """Correlation of the high-pass detail of a clip region with that of the footage."""

    def high_pass(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return (gray - cv2.blur(gray, (3, 3))).ravel()

    a, b = high_pass(clip), high_pass(source)
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 0.0


def _face(box: npt.NDArray[np.float32], w: int, h: int) -> tuple[int, int, int, int]:
    """The head of a drawn person: the top of its tight box, away from the box's edges."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    return (
        int((x0 + 0.32 * bw) * w),
        int((y0 + 0.03 * bh) * h),
        int((x1 - 0.32 * bw) * w),
        int((y0 + 0.12 * bh) * h),
    )


def _realtime_frames(event: DemoEvent) -> list[tuple[datetime, npt.NDArray[np.uint8]]]:
    """Frames of the clip's real-time opening, with the wall-clock time each shows."""
    start = datetime.fromisoformat(event.evidence["clip_start"])
    speed = float(event.evidence["clip_speed"])
    realtime_s = (
        float(event.evidence["clip_s"]) if speed <= 1.0 else (event.start - start).total_seconds()
    )
    frames = []
    with av.open(event.evidence["clip"]) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            if t >= realtime_s:
                break
            image = np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
            frames.append((start + timedelta(seconds=t), image))
    return frames


def test_customers_faces_are_pixelated_in_the_clips(demo_run: tuple[Path, str]) -> None:
    """Every customer's face (per the footage script) has lost its detail in the clips, while
    the staff's faces keep theirs (which shows the measure can tell the two apart)."""
    out, _ = demo_run
    truths: dict[str, CameraTruth] = {
        cam: load_truth(out / "footage" / f"truth_{cam}.json") for cam in ("lobby", "counter")
    }
    kept: dict[bool, list[float]] = {True: [], False: []}  # by "is a customer"
    for event in _events(out):
        if event.video is None or event.video_start is None:
            continue
        truth = truths[event.camera]
        step = float(truth.times[1] - truth.times[0])
        for when, image in _realtime_frames(event):
            offset = (when - truth.start).total_seconds()
            i = int(round(offset / step))
            if abs(offset - i * step) > 0.045 or not 0 <= i < len(truth.times):
                continue
            source = None
            for a in np.flatnonzero(truth.visible[:, i]):
                h, w = image.shape[:2]
                x0, y0, x1, y1 = _face(truth.boxes[a, i], w, h)
                if x1 - x0 < 8 or y1 - y0 < 8:
                    continue
                if source is None:
                    raw = read_frame_at(event.video, event.video_start, when)
                    source = cv2.resize(raw, (w, h), interpolation=cv2.INTER_AREA)
                customer = bool(truth.roles[a] == int(Role.CUSTOMER))
                kept[customer].append(_fine_detail_kept(image[y0:y1, x0:x1], source[y0:y1, x0:x1]))
    customers, staff = np.array(kept[True]), np.array(kept[False])
    assert len(customers) >= 10 and len(staff) >= 10, "the clips must show people to check"
    assert (customers < SHARP).mean() >= 0.9, f"customers' detail kept: {np.round(customers, 2)}"
    assert (staff >= SHARP).mean() >= 0.9, f"staff detail kept: {np.round(staff, 2)}"
