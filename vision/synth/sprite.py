"""Sprites: images with a soft alpha, prepared for fast integer blending onto frames."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

ALPHA_ONE = 256
"""Integer alpha of a fully opaque pixel (blending divides by 256 with a shift)."""


@dataclass(frozen=True, slots=True, eq=False)
class Sprite:
    """An image ready to blend: premultiplied colour and inverse alpha, both integer.

    Sprites compare by identity (the renderer uses that to spot unchanged frames).

    Attributes:
        premult: ``uint16`` ``(h, w, 3)``: colour times alpha, alpha in 0–256.
        inv_alpha: ``uint16`` ``(h, w, 1)``: ``256 - alpha``.
        anchor: ``(x, y)`` sprite pixel placed on the scripted position (a person's feet).
        bbox: Tight box ``x0, y0, x1, y1`` (exclusive ends) of the pixels with alpha ≥ 0.5.
    """

    premult: npt.NDArray[np.uint16]
    inv_alpha: npt.NDArray[np.uint16]
    anchor: tuple[int, int]
    bbox: tuple[int, int, int, int]

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the sprite."""
        return (int(self.premult.shape[0]), int(self.premult.shape[1]))


def to_sprite(
    rgb: npt.NDArray[np.uint8], alpha: npt.NDArray[np.float32], anchor: tuple[int, int]
) -> Sprite:
    """Prepare a BGR image and its 0–1 alpha for blending.

    Args:
        rgb: BGR ``uint8`` ``(h, w, 3)``.
        alpha: ``float32`` ``(h, w)`` in 0–1.
        anchor: Sprite pixel that is placed on the scripted position.

    Returns:
        The sprite.

    Raises:
        ValueError: If the shapes differ or no pixel is at least half opaque.

    Example:
        >>> import numpy as np
        >>> s = to_sprite(np.zeros((4, 2, 3), np.uint8), np.ones((4, 2), np.float32), (1, 4))
        >>> s.bbox
        (0, 0, 2, 4)
    """
    if rgb.shape[:2] != alpha.shape:
        raise ValueError(f"sprite colour {rgb.shape} and alpha {alpha.shape} differ in size")
    a = np.round(np.clip(alpha, 0.0, 1.0) * ALPHA_ONE).astype(np.uint16)
    ys, xs = np.nonzero(alpha >= 0.5)
    if len(ys) == 0:
        raise ValueError("sprite has no pixel that is at least half opaque")
    return Sprite(
        premult=rgb.astype(np.uint16) * a[..., None],
        inv_alpha=(ALPHA_ONE - a)[..., None],
        anchor=anchor,
        bbox=(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1),
    )


def blend_sprite(frame: npt.NDArray[np.uint8], sprite: Sprite, x: int, y: int) -> None:
    """Alpha-blend a sprite into ``frame`` in place with its top-left corner at ``(x, y)``.

    Parts outside the frame are clipped.

    Args:
        frame: BGR ``uint8`` frame, modified in place.
        sprite: The sprite.
        x: Column of the sprite's left edge (may be negative).
        y: Row of the sprite's top edge (may be negative).

    Example:
        >>> import numpy as np
        >>> frame = np.zeros((4, 4, 3), np.uint8)
        >>> ones = np.ones((2, 2), np.float32)
        >>> white = to_sprite(np.full((2, 2, 3), 255, np.uint8), ones, (0, 0))
        >>> blend_sprite(frame, white, 3, 3)
        >>> int(frame[3, 3, 0]), int(frame[2, 2, 0])
        (255, 0)
    """
    h, w = sprite.shape
    fx0, fy0 = max(0, x), max(0, y)
    fx1, fy1 = min(frame.shape[1], x + w), min(frame.shape[0], y + h)
    if fx0 >= fx1 or fy0 >= fy1:
        return
    sx0, sy0 = fx0 - x, fy0 - y
    sx1, sy1 = sx0 + (fx1 - fx0), sy0 + (fy1 - fy0)
    region = frame[fy0:fy1, fx0:fx1]
    # colour * (256 - a) + colour' * a stays below 2**16 because the weights sum to 256.
    mixed = region * sprite.inv_alpha[sy0:sy1, sx0:sx1]
    mixed += sprite.premult[sy0:sy1, sx0:sx1]
    mixed += ALPHA_ONE // 2
    region[...] = mixed >> 8
