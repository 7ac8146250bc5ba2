"""Naming static objects with an optional object detector: crops, class choice, box overlap.

Any detector fits as a callable (:data:`ObjectLabeller`) that maps an image, passed as a
:class:`~vision.types.SampledFrame` holding the crop, to :class:`~vision.types.FrameDetections`
in the crop's pixels. For :class:`vision.detector.ObjectDetector` that is
``lambda f: detector.detect([f])[0]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from vision.types import FrameDetections, SampledFrame

logger = logging.getLogger(__name__)

ObjectLabeller = Callable[[SampledFrame], FrameDetections]
"""An object detector as a callable: an image (a crop) → its detections in the crop's pixels."""


def padded_crop(
    image: npt.NDArray[np.uint8], box: npt.NDArray[np.float64], pad: float
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """Crop around a box, widened by ``pad`` of its size on each side and clipped to the image.

    Args:
        image: BGR frame.
        box: ``(4,)`` xyxy in the frame's pixels.
        pad: Fraction of the box's width/height added on each side.

    Returns:
        The crop (a contiguous copy) and the box in the crop's pixels.

    Example:
        >>> crop, inner = padded_crop(np.zeros((100, 100, 3), np.uint8),
        ...                           np.array([40.0, 40.0, 60.0, 50.0]), 0.5)
        >>> crop.shape, inner.tolist()
        ((20, 40, 3), [10.0, 5.0, 30.0, 15.0])
    """
    h, w = image.shape[:2]
    size = np.tile(box[2:] - box[:2], 2)
    outer = np.round(box + np.array([-1, -1, 1, 1]) * size * pad).astype(np.int64)
    outer = np.clip(outer, 0, [w, h, w, h])
    crop = np.ascontiguousarray(image[outer[1] : outer[3], outer[0] : outer[2]])
    return crop, box - np.tile(outer[:2], 2).astype(np.float64)


def best_label(
    found: FrameDetections,
    inner: npt.NDArray[np.float64],
    class_names: Sequence[str],
    allowed: Sequence[str],
    min_confidence: float,
) -> tuple[str | None, float]:
    """The most confident allowed class whose box centre lies on the object.

    Args:
        found: Detections in the crop.
        inner: The object's box in the crop's pixels.
        class_names: Names of the detector's class ids.
        allowed: Class names that may label an object.
        min_confidence: Lowest confidence taken.

    Returns:
        The class name and its confidence, or ``(None, 0.0)`` when none fits.
    """
    if len(found) == 0:
        return None, 0.0
    names = np.array([*class_names, ""], dtype=object)
    unknown = len(names) - 1
    cls = np.clip(found.class_id, 0, unknown).astype(np.intp)
    cls[found.class_id < 0] = unknown
    centre = (found.xyxy[:, :2] + found.xyxy[:, 2:]) / 2
    on_object = (centre >= inner[:2]).all(axis=1) & (centre <= inner[2:]).all(axis=1)
    ok = on_object & np.isin(names[cls], list(allowed)) & (found.confidence >= min_confidence)
    if not ok.any():
        return None, 0.0
    best = int(np.flatnonzero(ok)[np.argmax(found.confidence[ok])])
    return str(names[cls[best]]), float(found.confidence[best])
