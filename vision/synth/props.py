"""Object photos (props) from ``skimage.data`` with soft masks, for clutter on desks and counters.

``cup`` is the espresso cup and saucer of ``skimage.data.coffee()`` (cut out with GrabCut from the
rectangle around them); ``document`` is the printed page of ``skimage.data.page()``; ``coins`` is
the tray of coins of ``skimage.data.coins()``. Masks are computed once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt
from skimage import data as skdata

from vision.synth.sprite import Sprite, to_sprite

logger = logging.getLogger(__name__)

NormBox = tuple[float, float, float, float]
"""Box ``x0, y0, x1, y1`` in 0–1 image coordinates."""


class UnknownPropError(KeyError):
    """A prop image name that is not in :data:`PROP_NAMES`."""


def skimage_photo(name: str) -> npt.NDArray[np.uint8]:
    """A photo that ships with scikit-image (``skimage.data.<name>()``), as ``uint8``.

    Raises:
        UnknownPropError: If scikit-image has no such photo.
    """
    loader = getattr(skdata, name, None)
    if loader is None:
        raise UnknownPropError(f"scikit-image ships no photo named {name!r}")
    return np.asarray(loader(), np.uint8)


def _grey_to_bgr(grey: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))


def _cup() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    photo = np.ascontiguousarray(skimage_photo("coffee")[:, :, ::-1])
    x0, y0, x1, y1 = 70, 10, 486, 396  # cup and saucer in the 600x400 photo
    crop = np.ascontiguousarray(photo[y0:y1, x0:x1])
    # GrabCut runs at half resolution with the photo's border as background.
    small = cv2.resize(photo, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    mask = np.zeros(small.shape[:2], np.uint8)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    rect = (x0 // 2, y0 // 2, (x1 - x0) // 2, (y1 - y0) // 2)
    cv2.grabCut(small, mask, rect, bgd, fgd, 4, cv2.GC_INIT_WITH_RECT)
    hard = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    full = cv2.resize(hard, (photo.shape[1], photo.shape[0]), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.GaussianBlur(full[y0:y1, x0:x1], (0, 0), 1.5)
    return crop, np.clip(alpha, 0.0, 1.0).astype(np.float32)


def _sheet(grey: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """A rectangular object (paper, tray) with a slightly soft edge."""
    alpha = np.zeros(grey.shape, np.float32)
    alpha[2:-2, 2:-2] = 1.0
    return _grey_to_bgr(grey), np.asarray(cv2.GaussianBlur(alpha, (0, 0), 1.0), np.float32)


_LOADERS: dict[str, Callable[[], tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]]] = {
    "cup": _cup,
    "document": lambda: _sheet(skimage_photo("page")),
    "coins": lambda: _sheet(skimage_photo("coins")),
}

PROP_NAMES: tuple[str, ...] = tuple(_LOADERS)


@lru_cache(maxsize=8)
def load_prop(name: str) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """Colour and soft alpha of a prop photo at its own resolution (cached per process).

    Args:
        name: One of :data:`PROP_NAMES`.

    Returns:
        BGR ``uint8`` image and ``float32`` alpha in 0–1.

    Raises:
        UnknownPropError: If the name is not a known prop.
    """
    loader = _LOADERS.get(name)
    if loader is None:
        raise UnknownPropError(f"unknown prop image {name!r}; known: {', '.join(PROP_NAMES)}")
    rgb, alpha = loader()
    logger.debug("loaded prop %s %s", name, rgb.shape)
    return rgb, alpha


@lru_cache(maxsize=64)
def prop_sprite(name: str, box_px: tuple[int, int, int, int]) -> tuple[Sprite, tuple[int, int]]:
    """Scale a prop to fit inside a pixel box, keeping its aspect, standing on the box bottom.

    Args:
        name: Prop image name.
        box_px: ``x0, y0, x1, y1`` in frame pixels.

    Returns:
        The sprite and the frame position of its top-left corner.

    Raises:
        ValueError: If the box is empty.
    """
    x0, y0, x1, y1 = box_px
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"prop {name!r} box {box_px} is smaller than 2x2 pixels")
    rgb, alpha = load_prop(name)
    scale = min((x1 - x0) / rgb.shape[1], (y1 - y0) / rgb.shape[0])
    w, h = max(2, round(rgb.shape[1] * scale)), max(2, round(rgb.shape[0] * scale))
    rgb_s = np.asarray(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
    alpha_s = np.asarray(cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA), np.float32)
    left = x0 + ((x1 - x0) - w) // 2
    return to_sprite(rgb_s, alpha_s, (w // 2, h)), (left, y1 - h)
