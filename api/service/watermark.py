"""Marked copies of evidence: what a viewer is served carries their name and the time.

The stored still and clip, and their sha256, are never changed: each request checks the stored
file against its digest, then serves a copy with a light watermark (``viewer · time UTC``) in
two corners. Stills are marked in memory per request. Clips are re-encoded (the encoder of
:func:`vision.clips.write_clip`, through its ``decorate`` hook) once per viewer and hour into a
cache folder, so the range requests of a video element hit one file; cached copies older than
a day are removed.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vision.clips import ClipError, ClipSource, ClipSpan, ClipStyle, write_clip

logger = logging.getLogger(__name__)

ALPHA = 0.45
JPEG_QUALITY = 90
CACHE_MAX_AGE_S = 86_400
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MARKED_CLIP_STYLE = ClipStyle(max_width=1 << 16, crf=23, max_fps=1000.0)
"""Marked copies keep the stored clip's size and every frame."""
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class WatermarkSettings(BaseSettings):
    """Where marked clips are cached, from ``BRANCHWATCH_WATERMARK_*`` variables."""

    model_config = SettingsConfigDict(
        env_prefix="BRANCHWATCH_WATERMARK_", extra="forbid", frozen=True
    )

    cache_dir: Path = Field(
        default=Path(tempfile.gettempdir()) / "branchwatch-marked",
        description="Folder of marked clip copies (safe to delete).",
    )


@lru_cache(maxsize=1)
def get_watermark_settings() -> WatermarkSettings:
    """Watermark settings from the environment, read once per process."""
    return WatermarkSettings()


class WatermarkError(RuntimeError):
    """A marked copy could not be made (the stored file is unreadable)."""


def mark_text(viewer: str, at: datetime, precision: str = "%Y-%m-%d %H:%M") -> str:
    """``viewer · 2026-12-04 15:30 UTC`` (non-ASCII letters of the name shown as ``?``)."""
    name = viewer.encode("ascii", "replace").decode()
    return f"{name} {at.astimezone(UTC).strftime(precision)} UTC"


def mark_image(image: npt.NDArray[np.uint8], text: str) -> npt.NDArray[np.uint8]:
    """``image`` with ``text`` blended in at the top right and bottom left.

    Only the two text boxes are blended, so the cost does not grow with the frame.
    """
    height, width = image.shape[:2]
    scale = max(0.35, width / 1400)
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick + 2)
    pad = max(4, th // 2)
    out = image.copy()
    for x, y in ((width - tw - pad, th + pad), (pad, height - base - pad)):
        x0, y0 = max(0, x - 2), max(0, y - th - 2)
        x1, y1 = min(width, x + tw + 2), min(height, y + base + 2)
        box = np.ascontiguousarray(out[y0:y1, x0:x1])
        drawn = box.copy()
        org = (x - x0, y - y0)
        cv2.putText(drawn, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2)
        cv2.putText(drawn, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick)
        out[y0:y1, x0:x1] = cv2.addWeighted(drawn, ALPHA, box, 1 - ALPHA, 0)
    return out


def marked_still(path: Path, viewer: str, now: datetime) -> bytes:
    """The still as a JPEG marked for ``viewer`` at ``now``.

    Raises:
        WatermarkError: The stored still cannot be decoded.
    """
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise WatermarkError(f"{path}: not a readable image")
    ok, data = cv2.imencode(
        ".jpg",
        mark_image(np.asarray(image, np.uint8), mark_text(viewer, now)),
        [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
    )
    if not ok:
        raise WatermarkError(f"{path}: cannot encode the marked still")
    return bytes(data.tobytes())


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _prune(folder: Path) -> None:
    cutoff = time.time() - CACHE_MAX_AGE_S
    for old in folder.glob("*.mp4"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue


def marked_clip(path: Path, sha256: str, viewer: str, now: datetime, cache: Path) -> Path:
    """A copy of the clip marked for ``viewer`` and the hour of ``now`` (made once, cached).

    Raises:
        WatermarkError: The stored clip cannot be decoded.
    """
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    key = hashlib.sha256(f"{sha256}|{viewer}|{hour.isoformat()}".encode()).hexdigest()[:32]
    out = cache / f"{key}.mp4"
    with _lock(key):
        if out.is_file():
            return out
        cache.mkdir(parents=True, exist_ok=True)
        _prune(cache)
        text = mark_text(viewer, hour, "%Y-%m-%d %H:00")
        try:
            write_clip(
                ClipSource(path, _EPOCH),
                [ClipSpan(_EPOCH, _EPOCH + timedelta(days=1))],
                out,
                decorate=lambda frame, _ts, _speed: mark_image(frame, text),
                style=MARKED_CLIP_STYLE,
            )
        except ClipError as exc:
            raise WatermarkError(str(exc)) from exc
    return out
