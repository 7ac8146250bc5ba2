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
    # Text goes through PIL so Chinese renders.
    font_px = max(12, h // 28)
    pil = Image.fromarray(cv2.cvtColor(out, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(pil)
    font = _font(font_px)
    for (x0, y0, _, _), label in zip(boxes, overlay.labels, strict=False):
        if label:
            draw.text(
                (int(x0) + 2, max(0, int(y0) - font_px - 2)),
                label,
                font=font,
                fill=PERSON_COLOUR[::-1],
                stroke_width=2,
                stroke_fill=(0, 0, 0),
            )
    for name, polygon in overlay.zones:
        if name:
            x, y = (np.asarray(polygon, np.float32).min(axis=0) * scale).astype(int)
            draw.text(
                (int(x) + 2, int(y) + 2),
                name,
                font=font,
                fill=ZONE_COLOUR[::-1],
                stroke_width=2,
                stroke_fill=(0, 0, 0),
            )
    draw.rectangle((0, 0, w, font_px + 8), fill=(0, 0, 0))
    draw.text((6, 3), overlay.title, font=font, fill=(255, 255, 255))
    return cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR).astype(np.uint8)


def write_jpeg(path: Path, image: npt.NDArray[np.uint8], quality: int = 88) -> None:
    """Write a JPEG atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"cannot encode JPEG for {path}")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.tobytes())
    tmp.replace(path)
