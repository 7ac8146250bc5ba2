"""Evidence stills: the frame of a finding with zones, people, roles and the item drawn."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from vision.fonts import FontMissing, locate_font
from vision.private import private_folder, publish_private

logger = logging.getLogger(__name__)

ZONE_COLOUR = (255, 200, 0)
PERSON_COLOUR = (80, 220, 80)
HIGHLIGHT_COLOUR = (40, 40, 255)


@dataclass(frozen=True)
class Overlay:
    """What to draw on a still, all in normalised 0–1 coordinates."""

    zones: Sequence[tuple[str, Sequence[tuple[float, float]]]]
    boxes: npt.NDArray[np.float32]
    labels: Sequence[str]
    highlight: tuple[float, float, float, float] | None
    title: str


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The SC face of Noto Sans CJK at ``size`` pixels (Pillow's own font if it is missing)."""
    try:
        face = locate_font()
    except FontMissing as exc:
        logger.warning("evidence captions will not show Chinese: %s", exc)
        return ImageFont.load_default()
    return ImageFont.truetype(str(face.path), size, index=face.index)


def draw_overlay(image: npt.NDArray[np.uint8], overlay: Overlay) -> npt.NDArray[np.uint8]:
    """Draw zones, person boxes with labels, the highlighted region and a title bar.

    Args:
        image: BGR frame (not modified).
        overlay: What to draw, normalised coordinates.

    Returns:
        A new BGR image.
    """
    out = image.copy()
    h, w = out.shape[:2]
    scale = np.array([w, h], np.float32)
    thick = max(1, round(min(h, w) / 360))
    for _, polygon in overlay.zones:
        pts = (np.asarray(polygon, np.float32) * scale).astype(np.int32)
        cv2.polylines(out, [pts], isClosed=True, color=ZONE_COLOUR, thickness=thick)
    boxes = (overlay.boxes.reshape(-1, 4) * np.tile(scale, 2)).astype(np.int32)
    for x0, y0, x1, y1 in boxes:
        cv2.rectangle(out, (int(x0), int(y0)), (int(x1), int(y1)), PERSON_COLOUR, thick)
    if overlay.highlight is not None:
        x0, y0, x1, y1 = (np.asarray(overlay.highlight) * np.tile(scale, 2)).astype(int)
        cv2.rectangle(out, (int(x0), int(y0)), (int(x1), int(y1)), HIGHLIGHT_COLOUR, thick * 2)
    font_px = max(12, h // 28)
    for (x0, y0, _, _), label in zip(boxes, overlay.labels, strict=False):
        if label:
            _blit(out, _text(label, font_px, PERSON_COLOUR), int(x0) + 2, int(y0) - font_px - 2)
    for name, polygon in overlay.zones:
        if name:
            x, y = (np.asarray(polygon, np.float32).min(axis=0) * scale).astype(int)
            _blit(out, _text(name, font_px, ZONE_COLOUR), int(x) + 2, int(y) + 2)
    out[: font_px + 8] = 0
    _blit(out, _text(overlay.title, font_px, (255, 255, 255), outline=False), 6, 3)
    return out


@lru_cache(maxsize=512)
def _text(
    text: str, px: int, colour: tuple[int, int, int], outline: bool = True
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """A label rendered once (through PIL, so Chinese renders): BGR pixels and alpha, ``0-1``.

    Labels repeat from frame to frame of a clip (roles, zones, the title of each second), so
    each is drawn by blending this cached patch, not by rendering text again.
    """
    font = _font(px)
    stroke = 2 if outline else 0
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    size = (max(1, int(right - left)), max(1, int(bottom - top)))
    fill = Image.new("RGB", size, colour[::-1])
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=font, fill=255, stroke_width=stroke)
    pixels = np.asarray(fill, np.float32)[..., ::-1].copy()
    if stroke:
        core = Image.new("L", size, 0)
        ImageDraw.Draw(core).text((-left, -top), text, font=font, fill=255)
        pixels *= (np.asarray(core, np.float32) / 255.0)[..., None]  # black outline
    return pixels, np.asarray(mask, np.float32)[..., None] / 255.0


def _blit(
    image: npt.NDArray[np.uint8],
    patch: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    x: int,
    y: int,
) -> None:
    """Blend a rendered label into ``image`` at ``(x, y)``, clipped to the image."""
    pixels, alpha = patch
    h, w = image.shape[:2]
    x, y = max(0, x), max(0, y)
    ph, pw = min(pixels.shape[0], h - y), min(pixels.shape[1], w - x)
    if ph <= 0 or pw <= 0:
        return
    region = image[y : y + ph, x : x + pw].astype(np.float32)
    a = alpha[:ph, :pw]
    image[y : y + ph, x : x + pw] = (region * (1 - a) + pixels[:ph, :pw] * a).astype(np.uint8)


def write_jpeg(path: Path, image: npt.NDArray[np.uint8], quality: int = 88) -> None:
    """Write a JPEG atomically (temporary file, then rename), readable by the owner only."""
    private_folder(path.parent)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"cannot encode JPEG for {path}")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.tobytes())
    publish_private(tmp, path)
