"""Motion gate: decide per sampled frame whether the view changed enough to run inference.

Each camera has its own :class:`MotionGate` holding a small grey thumbnail of the last frame
that went to inference. A new frame whose thumbnail differs from it by less than the
threshold (mean absolute difference, 0–1) is "unchanged": the previous observation still
holds. Inference runs at least every ``max_hold_s`` even in a still scene, and the decision
and the measure are recorded so rules can tell "unchanged" from "not looked at".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np
import numpy.typing as npt

from vision.config import SamplingConfig

logger = logging.getLogger(__name__)

THUMB_SIZE = (64, 36)
"""Thumbnail ``(width, height)``: 16:9 like DVR views, small enough to ignore sensor noise."""


@dataclass(frozen=True, slots=True)
class GateDecision:
    """What the gate decided for one frame.

    Attributes:
        infer: Run inference on this frame.
        measure: Mean absolute grey change against the last inferred frame, 0–1
            (1.0 for the first frame of a camera).
    """

    infer: bool
    measure: float


def thumbnail(
    image: npt.NDArray[np.uint8], size: tuple[int, int] = THUMB_SIZE
) -> npt.NDArray[np.float32]:
    """Grey thumbnail of a BGR (or grey) frame with values in 0–1.

    Args:
        image: ``(h, w, 3)`` BGR or ``(h, w)`` grey ``uint8`` frame.
        size: Thumbnail ``(width, height)``.

    Returns:
        ``(height, width)`` float32 array.
    """
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if small.ndim == 3:
        small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return small.astype(np.float32) / 255.0


class MotionGate:
    """Per-camera change detector against the last inferred frame.

    Args:
        threshold: Change (0–1) at or above which a frame goes to inference.
        max_hold_s: Longest time an observation is held without inference.
        size: Thumbnail ``(width, height)``.

    Example:
        >>> gate = MotionGate(threshold=0.004, max_hold_s=30.0)
        >>> frame = np.zeros((180, 320, 3), np.uint8)
        >>> gate.decide(frame, 0.0).infer, gate.decide(frame, 2.0).infer
        (True, False)
    """

    def __init__(
        self, threshold: float, max_hold_s: float, size: tuple[int, int] = THUMB_SIZE
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"motion threshold must lie in 0–1, got {threshold}")
        if max_hold_s < 0:
            raise ValueError(f"max_hold_s must not be negative, got {max_hold_s}")
        self.threshold = threshold
        self.max_hold_s = max_hold_s
        self.size = size
        self._reference: npt.NDArray[np.float32] | None = None
        self._reference_ts: float | None = None

    @classmethod
    def from_config(cls, config: SamplingConfig) -> MotionGate:
        """Gate with the threshold and hold time of a sampling configuration."""
        return cls(threshold=config.motion_threshold, max_hold_s=config.max_hold_s)

    def decide(self, image: npt.NDArray[np.uint8], ts: datetime | float) -> GateDecision:
        """Decide whether a frame needs inference, and update the reference if it does.

        Args:
            image: BGR frame.
            ts: Time of the frame (aware datetime or epoch seconds).

        Returns:
            The decision and the change measure.
        """
        t = ts.timestamp() if isinstance(ts, datetime) else float(ts)
        thumb = thumbnail(image, self.size)
        if self._reference is None or self._reference_ts is None:
            measure = 1.0
            infer = True
        else:
            measure = float(np.mean(np.abs(thumb - self._reference)))
            held = t - self._reference_ts
            infer = measure >= self.threshold or held >= self.max_hold_s or held < 0
        if infer:
            self._reference = thumb
            self._reference_ts = t
        return GateDecision(infer=infer, measure=measure)
