"""Screens (多媒体屏, LED, TV) seen by a camera: how bright, how uniform, whether they change.

Each zone of kind ``screen`` is measured on every sample (also when the motion gate skips the
detector: measuring a few hundred pixels is cheap) as three numbers that the SCREENS_OFF rule
reads from the timeline:

* ``brightness``: mean grey level (0–255) inside the polygon; a switched-off panel is dark;
* ``contrast``: standard deviation of the grey level; a blank or "no signal" panel is uniform;
* ``change``: mean absolute difference of a small grey thumbnail of the screen against the
  previous sample's; a frozen picture does not change. NaN on the first sample of a file.
"""

from __future__ import annotations

import logging
from enum import IntEnum

import cv2
import numpy as np
import numpy.typing as npt

from vision.config import ZoneKind
from vision.timeline import NUM_SCREEN_MEASURES
from vision.zones import CompiledZones

logger = logging.getLogger(__name__)

THUMB_SIZE = 16
"""Side of the grey thumbnail compared between samples (pixels)."""


class ScreenMeasure(IntEnum):
    """Columns of the timeline's ``screen`` array."""

    BRIGHTNESS = 0
    CONTRAST = 1
    CHANGE = 2


class ScreenMeter:
    """Measures the screen zones of one camera on consecutive samples.

    Args:
        zones: The camera's compiled zones; the ``screen`` ones are measured, in zone order.
    """

    def __init__(self, zones: CompiledZones) -> None:
        self.columns = zones.kind_columns(ZoneKind.SCREEN)
        self._boxes: list[tuple[int, int, int, int]] = []
        self._masks: list[npt.NDArray[np.bool_]] = []
        for col in self.columns:
            ys, xs = np.nonzero(zones.masks[col])
            if len(xs) == 0:
                box = (0, 0, 1, 1)
            else:
                box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            self._boxes.append(box)
            x0, y0, x1, y1 = box
            self._masks.append(zones.masks[col][y0:y1, x0:x1])
        self._previous: npt.NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return len(self.columns)

    def measure(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """``(S, 3)`` brightness, contrast and change of each screen zone in a BGR frame."""
        out = np.full((len(self), NUM_SCREEN_MEASURES), np.nan, np.float32)
        if not len(self):
            return out
        thumbs = np.zeros((len(self), THUMB_SIZE, THUMB_SIZE), np.float32)
        for i, ((x0, y0, x1, y1), mask) in enumerate(zip(self._boxes, self._masks, strict=True)):
            grey = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
            values = grey[mask].astype(np.float32)
            if len(values):
                out[i, ScreenMeasure.BRIGHTNESS] = values.mean()
                out[i, ScreenMeasure.CONTRAST] = values.std()
            thumbs[i] = cv2.resize(
                grey, (THUMB_SIZE, THUMB_SIZE), interpolation=cv2.INTER_AREA
            ).astype(np.float32)
        if self._previous is not None:
            out[:, ScreenMeasure.CHANGE] = np.abs(thumbs - self._previous).mean(axis=(1, 2))
        self._previous = thumbs
        return out
