"""Test data of the review service: two branches, events with a real still and a real clip.

Everything is written straight into the store tables of a migrated SQLite file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from sqlalchemy.orm import Session

from api.auth import Role, add_user
from api.db.models import Branch, Camera, EventRecord, Video
from api.db.session import make_engine, upgrade
from vision.clips import ClipSource, ClipSpan, FaceTrack, write_clip
from vision.evidence import write_jpeg
from vision.timeline import ObservationTimeline, ZoneInfo
from vision.types import Posture
from vision.types import Role as PersonRole

PASSWORD = "correct horse battery"
SECRET = "test-secret-" + "x" * 40
START = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
SOURCE_S = 30
FPS = 10


@dataclass(frozen=True)
class Seeded:
    """Ids of what :func:`seed_store` wrote."""

    url: str
    own: list[int]  # events of branch b1, in queue order
    other: int  # the event of branch b2
    clip_size: int


def write_source_video(path: Path, seconds: int = SOURCE_S) -> None:
    """A small H.264 export: a moving block on a textured background, keyframes every 5 s."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"g": str(5 * FPS), "preset": "ultrafast"}
        yy, xx = np.mgrid[0:240, 0:320]
        base = (((xx // 16 + yy // 16) % 2) * 80 + 60).astype(np.uint8)
        for i in range(seconds * FPS):
            image = np.dstack([base, base, base]).copy()
            x = (i * 3) % 280
            image[100:160, x : x + 40] = (40, 40, 220)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def write_timeline(path: Path) -> ObservationTimeline:
    """Two people every 2 s: a guard (track 1) and a customer with a face box (track 2)."""
    ts = START.timestamp() + np.arange(0, SOURCE_S, 2.0)
    t = len(ts)
    n = 2 * t
    timeline = ObservationTimeline(
        branch="b1",
        camera="c1",
        zones=(ZoneInfo("lobby", "lobby"),),
        ts=ts,
        inferred=np.ones(t, bool),
        motion=np.zeros(t, np.float32),
        sample=np.repeat(np.arange(t, dtype=np.int32), 2),
        track_id=np.tile(np.array([1, 2], np.int64), t),
        role=np.tile(np.array([int(PersonRole.GUARD), int(PersonRole.CUSTOMER)], np.int8), t),
        role_conf=np.ones(n, np.float32),
        xyxy=np.tile(np.array([[0.1, 0.2, 0.3, 0.9], [0.6, 0.2, 0.8, 0.9]], np.float32), (t, 1)),
        in_zone=np.ones((n, 1), bool),
        posture=np.full((n, len(Posture)), -1, np.int8),
        posture_value=np.zeros((n, len(Posture)), np.float32),
        face_xyxy=np.tile(np.array([[np.nan] * 4, [0.62, 0.2, 0.78, 0.4]], np.float32), (t, 1)),
        coverage=np.array([[ts[0], ts[-1] + 2.0]]),
    )
    timeline.save(path)
    return timeline


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_media(folder: Path) -> dict[str, str]:
    """A real still (JPEG) and a real clip (H.264 MP4 cut by :func:`write_clip`)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "export.mp4"
    write_source_video(source)
    timeline = write_timeline(folder / "timeline.npz")
    still = folder / "still.jpg"
    image = np.full((240, 320, 3), 90, np.uint8)
    cv2.rectangle(image, (30, 40), (120, 220), (80, 220, 80), 2)
    write_jpeg(still, image)
    clip = folder / "clip.mp4"
    t0, t1 = START + timedelta(seconds=6), START + timedelta(seconds=14)
    write_clip(
        ClipSource(source, START),
        [ClipSpan(t0, t1)],
        clip,
        FaceTrack.from_timeline(timeline, t0.timestamp(), t1.timestamp()).blur,
    )
    return {
        "still": str(still),
        "still_sha256": _sha(still),
        "clip": str(clip),
        "clip_sha256": _sha(clip),
        "source": str(source),
        "timeline": str(folder / "timeline.npz"),
    }


def _event(
    key: str, branch: str, item: str, offset_s: float, media: dict[str, str], video_id: int
) -> EventRecord:
    start = START + timedelta(seconds=offset_s)
    return EventRecord(
        key=key,
        item=item,
        branch_id=branch,
        camera_id="c1",
        start_ts=start,
        end_ts=start + timedelta(seconds=8),
        zone="lobby",
        people=[{"track_id": 1, "role": "guard"}],
        details={"min_duration_s": 5.0, "seated_fraction": 0.93},
        evidence={k: media[k] for k in ("still", "still_sha256", "clip", "clip_sha256")},
        evidence_ts=start + timedelta(seconds=4),
        status="pending",
        rule_version="1",
        detector_version="yolo11n-pose@test",
        video_id=video_id,
    )


def seed_store(url: str, media: dict[str, str]) -> Seeded:
    """Migrate a database and fill it: branches b1/b2, events, and four accounts.

    Accounts: ``admin``; ``sup1`` (supervisor of b1); ``sup2`` (supervisor of b2);
    ``br1`` (branch account of b1). All have the password :data:`PASSWORD`.
    """
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as db:
        db.add_all(
            [
                Branch(id="b1", name="城东支行", timezone="Asia/Shanghai"),
                Branch(id="b2", name="城西支行", timezone="Asia/Shanghai"),
            ]
        )
        db.flush()
        db.add_all(
            [
                Camera(branch_id="b1", camera_id="c1", name="大堂"),
                Camera(branch_id="b2", camera_id="c1", name="大堂"),
            ]
        )
        video = Video(
            path=media["source"],
            sha256="0" * 64,
            size=1,
            branch_id="b1",
            camera_id="c1",
            start_ts=START,
            end_ts=START + timedelta(seconds=SOURCE_S),
            status="done",
            pipeline_version="test",
            timeline_path=media["timeline"],
        )
        db.add(video)
        db.flush()
        own = [
            _event("e1", "b1", "GUARD_POSTURE", 6, media, video.id),
            _event("e2", "b1", "LOBBY_MANAGER_ABSENT", 60, media, video.id),
            _event("e3", "b1", "STAFF_PHONE_USE", 120, media, video.id),
        ]
        other = _event("e4", "b2", "GUARD_POSTURE", 30, media, video.id)
        db.add_all([*own, other])
        add_user(db, "admin", PASSWORD, Role.ADMIN, display_name="管理员")
        add_user(db, "sup1", PASSWORD, Role.SUPERVISOR, ["b1"], display_name="王督导")
        add_user(db, "sup2", PASSWORD, Role.SUPERVISOR, ["b2"], display_name="李督导")
        add_user(db, "br1", PASSWORD, Role.BRANCH, ["b1"], display_name="城东网点")
        db.commit()
        ids = [e.id for e in own]
        other_id = other.id
    engine.dispose()
    return Seeded(url=url, own=ids, other=other_id, clip_size=Path(media["clip"]).stat().st_size)
