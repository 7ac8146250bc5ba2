"""Evidence files of events: resolved from the event record, checked against their sha256.

Paths come only from the stored event, never from the request. A file whose content no longer
matches the digest stored with the event is refused (it may have been tampered with).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path

from api.db.models import EventRecord
from vision.digest import file_sha256

logger = logging.getLogger(__name__)


class EvidenceKind(StrEnum):
    """Kinds of evidence files, as keys of ``EventRecord.evidence``."""

    STILL = "still"
    CLIP = "clip"


MEDIA_TYPES = {EvidenceKind.STILL: "image/jpeg", EvidenceKind.CLIP: "video/mp4"}


class EvidenceMissing(LookupError):
    """The event has no such evidence file, or the file is gone."""


class EvidenceTampered(RuntimeError):
    """The file's content differs from the sha256 stored with the event."""


def evidence_path(event: EventRecord, kind: EvidenceKind) -> Path | None:
    """Where the event's evidence file of this kind is stored, if it has one."""
    value = event.evidence.get(kind.value)
    return Path(value) if isinstance(value, str) and value else None


def checked_evidence(event: EventRecord, kind: EvidenceKind) -> Path:
    """The event's evidence file, after checking it exists and matches its stored sha256.

    Raises:
        EvidenceMissing: No such evidence, or the file is gone.
        EvidenceTampered: No digest is stored, or the content does not match it.
    """
    path = evidence_path(event, kind)
    if path is None:
        raise EvidenceMissing(f"event {event.id} has no {kind.value}")
    try:
        path.stat()
    except OSError as exc:
        logger.warning("event %d: %s file %s is gone: %s", event.id, kind.value, path, exc)
        raise EvidenceMissing(f"event {event.id}: {kind.value} file is gone") from exc
    expected = event.evidence.get(f"{kind.value}_sha256")
    if expected is None or file_sha256(path) != expected:
        logger.error("event %d: %s file %s does not match its sha256", event.id, kind.value, path)
        raise EvidenceTampered(f"event {event.id}: {kind.value} does not match its sha256")
    return path
