"""Manual findings: a supervisor records what the video rules cannot check (人工检查项).

A manual finding is stored as a confirmed event whose ``rule_version`` is
:data:`rules.coverage.MANUAL_RULE_VERSION`, with a still: the frame of the camera's stored
footage at the chosen time, or a photo the supervisor uploads. It is reviewed (a ``manual``
review row) and audited like any decision, and it is the only kind of event that scores a
manual item.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import AuditAction, Principal, record_audit
from api.db.models import EventRecord, Review, Video, utcnow
from api.db.session import begin_write
from api.notices.photos import PhotoError, PhotoLimits, clean_photo
from api.store import Store
from rules.coverage import MANUAL_RULE_VERSION
from rules.standard import item_name, load_catalog
from rules.types import Event, EventStatus
from vision.digest import file_sha256
from vision.evidence import write_jpeg

logger = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 20 * 1024 * 1024
"""Largest photo accepted (bytes)."""


class ManualFindingError(ValueError):
    """The finding cannot be recorded; the message says why and what to do."""


class ManualNotAllowed(PermissionError):
    """The caller may not record findings for this branch."""


@dataclass(frozen=True, slots=True)
class ManualFinding:
    """What the supervisor saw: item, where, when (timezone-aware) and a note."""

    branch: str
    camera: str
    item: str
    at: datetime
    note: str


def _photo_image(photo: bytes) -> npt.NDArray[np.uint8]:
    """The upload checked and cleaned as rectification photos are (JPEG/PNG/WebP only, size
    limits, turned upright, metadata dropped), as a BGR image."""
    try:
        clean = clean_photo(photo, PhotoLimits(max_bytes=MAX_PHOTO_BYTES))
    except PhotoError as exc:
        raise ManualFindingError(f"无法读取上传的照片：{exc}") from exc
    image = cv2.imdecode(np.frombuffer(clean, np.uint8), cv2.IMREAD_COLOR)
    return np.asarray(image, np.uint8)


def footage_at(db: Session, finding: ManualFinding) -> Video:
    """The analysed export file of the camera that shows the finding's time."""
    video = db.scalars(
        select(Video)
        .where(
            Video.branch_id == finding.branch,
            Video.camera_id == finding.camera,
            Video.start_ts <= finding.at,
            Video.end_ts > finding.at,
        )
        .order_by(Video.start_ts.desc())
    ).first()
    if video is None:
        raise ManualFindingError(
            f"摄像机 {finding.camera} 在 {finding.at:%Y-%m-%d %H:%M:%S} 没有录像，"
            "请改选录像覆盖的时间或上传照片"
        )
    return video


def _footage_image(video: Video, at: datetime) -> npt.NDArray[np.uint8]:
    from vision.probe import VideoError
    from vision.sampler import read_frame_at

    assert video.start_ts is not None
    try:
        return read_frame_at(video.path, video.start_ts, at)
    except (VideoError, OSError) as exc:
        raise ManualFindingError(f"无法从录像读取该时刻的画面（{exc}），请上传照片") from exc


def record_manual_finding(
    db: Session,
    principal: Principal,
    finding: ManualFinding,
    photo: bytes | None,
    evidence_dir: Path,
    ip: str,
) -> EventRecord:
    """Store a manual finding as a confirmed event with its still (the caller commits).

    Args:
        db: Session.
        principal: The supervisor recording it.
        finding: What was seen.
        photo: An uploaded photo (JPEG/PNG bytes); ``None``: the frame of the camera's stored
            footage at ``finding.at``.
        evidence_dir: Folder for the still (``manual/<event key>/still.jpg`` under it).
        ip: Client address, for the audit record.

    Raises:
        ManualNotAllowed: The caller may not review this branch.
        ManualFindingError: Unknown item, a camera the branch lacks, no footage at that time,
            or a photo that is not an image.
    """
    begin_write(db)
    if not principal.can_review(finding.branch):
        raise ManualNotAllowed(f"{principal.username} may not record findings of {finding.branch}")
    if finding.item not in load_catalog().items:
        raise ManualFindingError(f"未知的检查项目 {finding.item}")
    if finding.at.tzinfo is None:
        raise ManualFindingError("时间需带时区")
    video = None
    if photo is None:
        video = footage_at(db, finding)
        image = _footage_image(video, finding.at)
    else:
        image = _photo_image(photo)
    note = finding.note.strip()
    event = Event(
        item=finding.item,
        branch=finding.branch,
        camera=finding.camera,
        start=finding.at,
        end=finding.at,
        rule_version=MANUAL_RULE_VERSION,
        details={
            "source": "photo" if photo is not None else "footage",
            "note": note,
            "recorded_by": principal.username,
        },
        evidence_ts=finding.at,
    )
    path = evidence_dir / "manual" / event.key / "still.jpg"
    write_jpeg(path, image)
    store = Store(db)
    evidence = {event.key: {"still": str(path), "still_sha256": file_sha256(path)}}
    if not store.add_events(
        [event], MANUAL_RULE_VERSION, video.id if video else None, None, evidence
    ):
        raise ManualFindingError(
            f"{item_name(finding.item)} 在该摄像机该时刻已有人工检查记录，无需重复录入"
        )
    row = db.scalars(select(EventRecord).where(EventRecord.key == event.key)).one()
    row.status = EventStatus.CONFIRMED.value
    db.add(
        Review(
            event_id=row.id,
            reviewer=principal.username,
            action="manual",
            before_status=EventStatus.CONFIRMED.value,
            after_status=EventStatus.CONFIRMED.value,
            reason=note,
            created_at=utcnow(),
        )
    )
    db.flush()
    record_audit(
        db,
        AuditAction.MANUAL_FINDING,
        principal=principal,
        target=f"event:{row.id}",
        branch_id=finding.branch,
        before={},
        after={"status": row.status, "item": row.item, "note": note},
        ip=ip,
    )
    logger.info(
        "%s recorded %s at %s/%s", principal.username, row.item, row.branch_id, row.camera_id
    )
    return row
