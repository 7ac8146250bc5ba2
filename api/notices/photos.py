"""Photos a branch uploads with its answer: images only, size-limited, re-encoded, no metadata.

The upload is decoded with Pillow (JPEG, PNG or WebP only), turned upright from its EXIF
orientation, shrunk to :attr:`PhotoLimits.max_side`, and written as a fresh JPEG made from the
pixels alone, so no EXIF, GPS, XMP or comment of the original survives. Files are named by their
sha256, written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
JPEG_QUALITY = 85


class PhotoError(ValueError):
    """The upload is not an acceptable photo (the message says why, in Chinese)."""


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """Limits of one uploaded photo."""

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 2560


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    """A photo as stored."""

    path: Path
    sha256: str
    size: int
    width: int
    height: int
    original_name: str


def _decode(data: bytes, limits: PhotoLimits) -> Image.Image:
    if len(data) > limits.max_bytes:
        raise PhotoError(f"照片超过 {limits.max_bytes // (1024 * 1024)} MB 上限")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise PhotoError("仅接受 JPEG、PNG 或 WebP 格式的照片")
            if probe.width * probe.height > limits.max_pixels:
                raise PhotoError("照片像素过多")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        Image.DecompressionBombError,
        ImportError,  # once ultralytics is imported, Image.open tries a HEIF plugin for the rest
    ) as exc:
        raise PhotoError("文件不是可读取的图片") from exc
    return image


def clean_photo(data: bytes, limits: PhotoLimits) -> bytes:
    """The upload re-encoded as a metadata-free JPEG.

    Raises:
        PhotoError: Too large, not an image, or not JPEG/PNG/WebP.
    """
    image = _decode(data, limits)
    upright = ImageOps.exif_transpose(image) or image
    rgb = upright.convert("RGB")
    rgb.thumbnail((limits.max_side, limits.max_side))
    pixels_only = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    pixels_only.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def store_photo(data: bytes, name: str, folder: Path, limits: PhotoLimits) -> StoredPhoto:
    """Clean an upload and write it under ``folder/<sha256[:2]>/<sha256>.jpg``.

    Raises:
        PhotoError: The upload is not an acceptable photo.
    """
    clean = clean_photo(data, limits)
    digest = hashlib.sha256(clean).hexdigest()
    target = folder / digest[:2] / f"{digest}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(clean)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    with Image.open(target) as stored:
        width, height = stored.size
    return StoredPhoto(
        path=target,
        sha256=digest,
        size=len(clean),
        width=width,
        height=height,
        original_name=Path(name).name[:200],
    )
