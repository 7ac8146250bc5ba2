"""Face regions from head keypoints, and blurring them out of evidence images.

Customers' faces are blurred in evidence clips and notices. The region is estimated from the
head keypoints (nose, eyes, ears); when they are hidden, from the top of the person's box.
Boxes err on the large side: a face left readable is worse than a blurred collar.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

from vision.types import NUM_KEYPOINTS, FrameDetections, Keypoint

logger = logging.getLogger(__name__)

FACE_KP_VISIBLE = 0.5
"""Visibility from which a head keypoint is used."""

FACE_EAR_SCALE = 1.3
"""Face side over the ear-to-ear distance."""

FACE_EYE_SCALE = 2.5
"""Face side over the eye-to-eye distance."""

FACE_SHOULDER_SCALE = 0.6
"""Lower bound of the face side over the shoulder-keypoint width (in a profile view the ears
and eyes overlap)."""

FACE_MIN_BOX_FRACTION = 0.25
"""Lower bound of the face side over the person box width."""

FALLBACK_WIDTH_FRACTION = 0.6
"""Without head keypoints: face side over the box width (capped by the next constant)."""

FALLBACK_HEIGHT_FRACTION = 0.2
"""Without head keypoints: largest face side over the box height, placed at the box top."""

PIXELATE_CELLS = 6
"""Cells across the longer side of a pixelated face: too few to recognise anyone."""

_HEAD = [Keypoint.NOSE, Keypoint.LEFT_EYE, Keypoint.RIGHT_EYE, Keypoint.LEFT_EAR,
         Keypoint.RIGHT_EAR]  # fmt: skip


def face_boxes(dets: FrameDetections) -> npt.NDArray[np.float32]:
    """Estimated face box of each person.

    Args:
        dets: Detections of one frame (pose keypoints optional).

    Returns:
        ``(n, 4)`` float32 ``x1, y1, x2, y2`` in pixels, clipped to the frame.

    Example:
        >>> from datetime import datetime, timezone
        >>> d = FrameDetections.empty((480, 640), "c1", 0, datetime.now(timezone.utc))
        >>> face_boxes(d).shape
        (0, 4)
    """
    xyxy = dets.xyxy.astype(np.float64)
    box_w = xyxy[:, 2] - xyxy[:, 0]
    box_h = xyxy[:, 3] - xyxy[:, 1]
    # Fallback: a square at the top centre of the box.
    side = np.minimum(FALLBACK_WIDTH_FRACTION * box_w, FALLBACK_HEIGHT_FRACTION * box_h)
    cx = (xyxy[:, 0] + xyxy[:, 2]) / 2
    top = xyxy[:, 1].copy()
    if dets.keypoints.shape[1] == NUM_KEYPOINTS and len(dets):
        kp = dets.keypoints.astype(np.float64)
        head = kp[:, _HEAD]
        seen = head[..., 2] >= FACE_KP_VISIBLE
        count = seen.sum(axis=1)
        has = count > 0
        xy = head[..., :2]
        centre = np.where(seen[..., None], xy, 0.0).sum(axis=1) / np.maximum(count, 1)[:, None]
        ears = _pair_distance(kp, Keypoint.LEFT_EAR, Keypoint.RIGHT_EAR)
        eyes = _pair_distance(kp, Keypoint.LEFT_EYE, Keypoint.RIGHT_EYE)
        shoulders = _pair_distance(kp, Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER)
        kp_side = np.maximum.reduce(
            [FACE_EAR_SCALE * ears, FACE_EYE_SCALE * eyes, FACE_SHOULDER_SCALE * shoulders,
             FACE_MIN_BOX_FRACTION * box_w]
        )  # fmt: skip
        side = np.where(has, kp_side, side)
        cx = np.where(has, centre[:, 0], cx)
        # Eyes and ears sit a little above the middle of the face.
        top = np.where(has, centre[:, 1] - 0.55 * kp_side, top)
    h, w = dets.frame_shape
    out = np.stack([cx - side / 2, top, cx + side / 2, top + side], axis=1)
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h)
    return out.astype(np.float32)


def _pair_distance(kp: npt.NDArray[np.float64], a: int, b: int) -> npt.NDArray[np.float64]:
    """Distance between two keypoints of each person, 0 unless both are visible."""
    both = (kp[:, a, 2] >= FACE_KP_VISIBLE) & (kp[:, b, 2] >= FACE_KP_VISIBLE)
    dist = np.linalg.norm(kp[:, a, :2] - kp[:, b, :2], axis=1)
    return np.asarray(np.where(both, dist, 0.0), np.float64)


def blur_faces(
    image: npt.NDArray[np.uint8], boxes: npt.NDArray[np.float32], cells: int = PIXELATE_CELLS
) -> npt.NDArray[np.uint8]:
    """Pixelate the given regions of an image.

    Args:
        image: BGR ``uint8`` image ``(h, w, 3)``; it is not modified.
        boxes: ``(k, 4)`` regions ``x1, y1, x2, y2`` in pixels (from :func:`face_boxes`).
        cells: Cells across the longer side of each region.

    Returns:
        A copy of ``image`` with each region replaced by a coarse mosaic of itself.

    Raises:
        ValueError: the image or the boxes do not have the shapes above, or ``cells < 1``.

    Example:
        >>> img = np.arange(64 * 64 * 3, dtype=np.uint8).reshape(64, 64, 3)
        >>> out = blur_faces(img, np.array([[0, 0, 32, 32]], np.float32), cells=1)
        >>> len(np.unique(out[:32, :32].reshape(-1, 3), axis=0))
        1
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (h, w, 3), got {image.dtype} {image.shape}")
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape (k, 4), got {boxes.shape}")
    if cells < 1:
        raise ValueError(f"cells must be at least 1, got {cells}")
    out = image.copy()
    h, w = image.shape[:2]
    for x1, y1, x2, y2 in boxes:
        xa, ya = max(int(np.floor(x1)), 0), max(int(np.floor(y1)), 0)
        xb, yb = min(int(np.ceil(x2)), w), min(int(np.ceil(y2)), h)
        if xb - xa < 1 or yb - ya < 1:
            continue
        roi = out[ya:yb, xa:xb]
        longer = max(xb - xa, yb - ya)
        small_w = max(1, round(cells * (xb - xa) / longer))
        small_h = max(1, round(cells * (yb - ya) / longer))
        small = cv2.resize(roi, (small_w, small_h), interpolation=cv2.INTER_AREA)
        out[ya:yb, xa:xb] = cv2.resize(small, (xb - xa, yb - ya), interpolation=cv2.INTER_NEAREST)
    return out
