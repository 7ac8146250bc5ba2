"""Typed, vectorised data passed between the vision stages.

A sampled frame is a frozen :class:`SampledFrame`; everything a model finds in it travels as
one :class:`FrameDetections` of parallel arrays. Arrays are never ``None``: an empty frame has
arrays of length 0, so filtering and concatenation never build mismatched objects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

NUM_KEYPOINTS = 17
"""COCO keypoints per person: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles."""


class Keypoint(IntEnum):
    """Index of each COCO keypoint in ``FrameDetections.keypoints``."""

    NOSE = 0
    LEFT_EYE = 1
    RIGHT_EYE = 2
    LEFT_EAR = 3
    RIGHT_EAR = 4
    LEFT_SHOULDER = 5
    RIGHT_SHOULDER = 6
    LEFT_ELBOW = 7
    RIGHT_ELBOW = 8
    LEFT_WRIST = 9
    RIGHT_WRIST = 10
    LEFT_HIP = 11
    RIGHT_HIP = 12
    LEFT_KNEE = 13
    RIGHT_KNEE = 14
    LEFT_ANKLE = 15
    RIGHT_ANKLE = 16


class Role(IntEnum):
    """Role of a tracked person in the branch."""

    UNKNOWN = 0
    CUSTOMER = 1
    TELLER = 2
    LOBBY_MANAGER = 3
    GUARD = 4


class Posture(IntEnum):
    """Posture flags computed from keypoints; each is stored as -1 unknown, 0 false, 1 true."""

    SEATED = 0
    LEANING = 1
    HEAD_DROPPED = 2
    ARMS_CROSSED = 3
    HANDS_BEHIND_BACK = 4
    HANDS_AT_HIP = 5
    WRIST_ABOVE_SHOULDER = 6
    WRIST_NEAR_EAR = 7
    LOOKING_AT_PHONE = 8
    LEGS_CROSSED = 9
    READING = 10


@dataclass(frozen=True, slots=True)
class SampledFrame:
    """One decoded frame picked by the sampler.

    Attributes:
        camera: Camera id from the configuration.
        ts: Wall-clock time of the frame (timezone-aware): file start plus presentation time.
        index: Position of the frame among the frames decoded from its file (0-based).
        image: BGR ``uint8`` array of shape ``(height, width, 3)``.
    """

    camera: str
    ts: datetime
    index: int
    image: npt.NDArray[np.uint8]

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"SampledFrame.ts must be timezone-aware, got {self.ts!r}")
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(
                "SampledFrame.image must be a uint8 array of shape (h, w, 3), got "
                f"{self.image.dtype} {self.image.shape}"
            )


def box_iou(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Pairwise IoU of ``(n, 4)`` and ``(m, 4)`` xyxy boxes of any numeric dtype, ``(n, m)``.

    Degenerate boxes (zero area) have IoU 0 with everything.

    Example:
        >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 0, 3, 2]])).round(3).tolist()
        [[0.333]]
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0.0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0.0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.asarray(np.divide(inter, union, out=np.zeros_like(inter), where=union > 0))


def _check_shape(name: str, arr: npt.NDArray[Any], shape: tuple[int | None, ...]) -> None:
    if arr.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(arr.shape, shape, strict=True)
    ):
        want_str = "(" + ", ".join("n" if w is None else str(w) for w in shape) + ")"
        raise ValueError(f"{name} must have shape {want_str}, got {arr.shape}")


@dataclass(frozen=True)
class FrameDetections:
    """Detections of one frame as parallel arrays of length ``n``.

    Attributes:
        xyxy: ``(n, 4)`` float32 boxes in pixels of the analysed frame.
        confidence: ``(n,)`` float32 scores.
        class_id: ``(n,)`` int32 COCO class ids (0 is person).
        track_id: ``(n,)`` int64 track ids, ``-1`` before tracking.
        keypoints: ``(n, 17, 3)`` float32 ``x, y, visibility`` for pose models, ``(n, 0, 3)``
            for plain detectors.
        frame_shape: ``(height, width)`` of the frame the pixel coordinates refer to.
        camera: Camera id.
        frame_index: Index of the sampled frame.
        ts: Wall-clock time of the frame.

    Example:
        >>> import numpy as np
        >>> from datetime import datetime, timezone
        >>> ts = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> d = FrameDetections.empty((480, 640), "cam1", 0, ts)
        >>> len(d)
        0
    """

    xyxy: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int32]
    track_id: npt.NDArray[np.int64]
    keypoints: npt.NDArray[np.float32]
    frame_shape: tuple[int, int]
    camera: str
    frame_index: int
    ts: datetime
    data: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        _check_shape("xyxy", self.xyxy, (n, 4))
        _check_shape("confidence", self.confidence, (n,))
        _check_shape("class_id", self.class_id, (n,))
        _check_shape("track_id", self.track_id, (n,))
        if self.keypoints.ndim != 3 or self.keypoints.shape[0] != n or self.keypoints.shape[2] != 3:
            raise ValueError(f"keypoints must have shape (n, k, 3), got {self.keypoints.shape}")
        for key, value in self.data.items():
            if len(value) != n:
                raise ValueError(f"data[{key!r}] must have length {n}, got {len(value)}")

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> FrameDetections:
        """Select detections by boolean mask or integer index array."""
        return FrameDetections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            track_id=self.track_id[index],
            keypoints=self.keypoints[index],
            frame_shape=self.frame_shape,
            camera=self.camera,
            frame_index=self.frame_index,
            ts=self.ts,
            data={k: v[index] for k, v in self.data.items()},
        )

    @classmethod
    def empty(
        cls,
        frame_shape: tuple[int, int],
        camera: str,
        frame_index: int,
        ts: datetime,
        num_keypoints: int = NUM_KEYPOINTS,
    ) -> FrameDetections:
        """Detections of a frame in which nothing was found."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int32),
            track_id=np.full(0, -1, np.int64),
            keypoints=np.zeros((0, num_keypoints, 3), np.float32),
            frame_shape=frame_shape,
            camera=camera,
            frame_index=frame_index,
            ts=ts,
        )

    @classmethod
    def from_ultralytics(
        cls, result: Any, camera: str, frame_index: int, ts: datetime
    ) -> FrameDetections:
        """Convert one ultralytics ``Results`` (detect or pose) into detections.

        This is the only place ultralytics output is read; it is duck-typed, so this module
        imports neither torch nor ultralytics.

        Args:
            result: One element of the list ``YOLO.predict`` returns.
            camera: Camera id of the frame.
            frame_index: Index of the sampled frame.
            ts: Wall-clock time of the frame.

        Returns:
            Detections in the pixels of ``result.orig_shape``; keypoints ``(n, 0, 3)`` for plain
            detectors; track ids ``-1`` unless ultralytics tracked them.
        """
        res = result.cpu().numpy()
        h, w = (int(v) for v in res.orig_shape)
        boxes = res.boxes
        n = 0 if boxes is None else len(boxes)
        if boxes is None or n == 0:
            k = 0 if res.keypoints is None else int(res.keypoints.data.shape[1])
            return cls.empty((h, w), camera, frame_index, ts, num_keypoints=k)
        kpts = (
            np.zeros((n, 0, 3), np.float32)
            if res.keypoints is None
            else np.asarray(res.keypoints.data, np.float32).reshape(n, -1, 3)
        )
        ids = boxes.id
        return cls(
            xyxy=np.asarray(boxes.xyxy, np.float32).reshape(n, 4),
            confidence=np.asarray(boxes.conf, np.float32).reshape(n),
            class_id=np.asarray(boxes.cls).astype(np.int32).reshape(n),
            track_id=np.full(n, -1, np.int64) if ids is None else np.asarray(ids).astype(np.int64),
            keypoints=kpts,
            frame_shape=(h, w),
            camera=camera,
            frame_index=frame_index,
            ts=ts,
        )

    def normalized_xyxy(self) -> npt.NDArray[np.float32]:
        """Boxes in 0–1 coordinates of the frame."""
        h, w = self.frame_shape
        scale = np.array([w, h, w, h], np.float32)
        return (self.xyxy / scale).astype(np.float32)
