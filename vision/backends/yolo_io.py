"""Pre- and post-processing of YOLO models run outside PyTorch (ONNX Runtime, OpenVINO).

Pre-processing letterboxes a batch of BGR frames into one ``(B, 3, H, W)`` float32 RGB tensor
with the minimal stride-aligned padding, as ultralytics does for same-sized frames.
Post-processing decodes the raw head output ``(B, 4 + classes + 3 * keypoints, anchors)``:
centre-size boxes, per-class scores, then ``x, y, visibility`` per keypoint; it filters by
confidence, runs class-aware NMS and maps coordinates back to each original frame. Only numpy
and OpenCV are used, so these paths never import torch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.types import FrameDetections, SampledFrame

logger = logging.getLogger(__name__)

STRIDE = 32
"""Largest stride of YOLO heads: the letterboxed sides are multiples of it."""
PAD_VALUE = 114
"""Grey of the letterbox padding, as in training."""
NMS_IOU = 0.7
"""IoU above which the lower-scored of two same-class boxes is dropped (ultralytics default)."""
MAX_DETECTIONS = 300
"""Most detections kept per frame."""
MAX_CANDIDATES = 30000
"""Most boxes passed to NMS per frame, highest scores first."""


@dataclass(frozen=True, slots=True)
class Letterboxed:
    """A batch of frames resized and padded for the network.

    Attributes:
        tensor: ``(B, 3, H, W)`` float32 RGB in 0–1.
        gain: ``(B, 2)`` float32 x and y scale from frame pixels to network pixels.
        pad: ``(B, 2)`` float32 left and top padding in network pixels.
    """

    tensor: npt.NDArray[np.float32]
    gain: npt.NDArray[np.float32]
    pad: npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class HeadLayout:
    """How to read the rows of a YOLO head output.

    Attributes:
        num_classes: Class score rows after the four box rows.
        num_keypoints: Keypoints after the class rows, three rows each (x, y, visibility).
    """

    num_classes: int
    num_keypoints: int

    @property
    def rows(self) -> int:
        """Rows the raw output must have."""
        return 4 + self.num_classes + 3 * self.num_keypoints


def _resized_size(shape: tuple[int, int], imgsz: int) -> tuple[int, int]:
    h, w = shape
    r = min(imgsz / h, imgsz / w)
    return max(round(w * r), 1), max(round(h * r), 1)


def letterbox(images: Sequence[npt.NDArray[np.uint8]], imgsz: int) -> Letterboxed:
    """Resize each frame so its longest side is ``imgsz`` and pad the batch to a common size.

    The common size is the smallest multiple of :data:`STRIDE` holding every resized frame, and
    each frame is centred in it, which matches ultralytics' rectangular letterbox for a batch of
    same-sized frames.

    Args:
        images: BGR uint8 frames ``(h, w, 3)``.
        imgsz: Longest side of the network input; a multiple of :data:`STRIDE`.

    Returns:
        The network input and how to map its coordinates back.

    Example:
        >>> lb = letterbox([np.zeros((720, 1280, 3), np.uint8)], 640)
        >>> lb.tensor.shape
        (1, 3, 384, 640)
    """
    if not images:
        raise ValueError("letterbox needs at least one image")
    sizes = [_resized_size((im.shape[0], im.shape[1]), imgsz) for im in images]
    width = -(-max(s[0] for s in sizes) // STRIDE) * STRIDE
    height = -(-max(s[1] for s in sizes) // STRIDE) * STRIDE
    canvas = np.full((len(images), height, width, 3), PAD_VALUE, np.uint8)
    gain = np.empty((len(images), 2), np.float32)
    pad = np.empty((len(images), 2), np.float32)
    for i, (im, (new_w, new_h)) in enumerate(zip(images, sizes, strict=True)):
        left = round((width - new_w) / 2 - 0.1)
        top = round((height - new_h) / 2 - 0.1)
        resized = (
            im
            if (im.shape[1], im.shape[0]) == (new_w, new_h)
            else cv2.resize(im, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        )
        canvas[i, top : top + new_h, left : left + new_w] = resized
        gain[i] = (new_w / im.shape[1], new_h / im.shape[0])
        pad[i] = (left, top)
    tensor = cv2.dnn.blobFromImages(list(canvas), scalefactor=1.0 / 255.0, swapRB=True)
    return Letterboxed(tensor=np.asarray(tensor, np.float32), gain=gain, pad=pad)


def _nms(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    classes: npt.NDArray[np.int32],
    conf: float,
) -> npt.NDArray[np.intp]:
    """Indices kept by class-aware NMS, highest score first."""
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1).tolist()
    if classes.size and classes.min() != classes.max():
        kept = cv2.dnn.NMSBoxesBatched(xywh, scores.tolist(), classes.tolist(), conf, NMS_IOU)
    else:
        kept = cv2.dnn.NMSBoxes(xywh, scores.tolist(), conf, NMS_IOU)
    return np.asarray(kept, np.intp).reshape(-1)[:MAX_DETECTIONS]


def decode(
    output: npt.NDArray[np.float32],
    layout: HeadLayout,
    batch: Letterboxed,
    frames: Sequence[SampledFrame],
    conf: float,
    keep_classes: npt.NDArray[np.bool_] | None = None,
) -> list[FrameDetections]:
    """Turn raw head output into one :class:`FrameDetections` per frame.

    Args:
        output: ``(B, layout.rows, anchors)`` raw network output, scores already in 0–1.
        layout: Row layout of the head.
        batch: The letterbox that produced the network input.
        frames: The frames of the batch, in order.
        conf: Minimum score (strictly greater passes, as in ultralytics).
        keep_classes: ``(num_classes,)`` mask of classes to report (applied to each box's best
            class, as ultralytics' ``classes=`` filter does); all when ``None``.

    Returns:
        Detections per frame in original frame pixels, sorted by descending confidence.

    Raises:
        ValueError: The output shape does not fit the layout or the batch.
    """
    if output.ndim != 3 or output.shape[0] != len(frames) or output.shape[1] != layout.rows:
        raise ValueError(
            f"model output {output.shape} does not match a batch of {len(frames)} "
            f"with {layout.rows} rows ({layout.num_classes} classes, "
            f"{layout.num_keypoints} keypoints)"
        )
    nc, nk = layout.num_classes, layout.num_keypoints
    results: list[FrameDetections] = []
    for b, frame in enumerate(frames):
        pred = output[b]
        cls_scores = pred[4 : 4 + nc]
        classes = np.argmax(cls_scores, axis=0).astype(np.int32) if nc > 1 else None
        scores = cls_scores.max(axis=0) if nc > 1 else cls_scores[0]
        passed = scores > conf
        if keep_classes is not None:
            passed &= keep_classes[classes] if classes is not None else bool(keep_classes[0])
        idx = np.flatnonzero(passed)
        if idx.size > MAX_CANDIDATES:
            idx = idx[np.argsort(-scores[idx])[:MAX_CANDIDATES]]
        h, w = frame.image.shape[:2]
        if idx.size == 0:
            results.append(FrameDetections.empty((h, w), frame.camera, frame.index, frame.ts, nk))
            continue
        cand = pred[:, idx].T
        cls = classes[idx] if classes is not None else np.zeros(idx.size, np.int32)
        xyxy = np.concatenate([cand[:, :2] - cand[:, 2:4] / 2, cand[:, :2] + cand[:, 2:4] / 2], 1)
        keep = _nms(xyxy, scores[idx].astype(np.float32), cls, conf)
        (gx, gy), (px, py) = batch.gain[b], batch.pad[b]
        scaled = (xyxy[keep] - np.array([px, py, px, py], np.float32)) / np.array(
            [gx, gy, gx, gy], np.float32
        )
        boxes = np.clip(scaled, 0, np.array([w, h, w, h], np.float32)).astype(np.float32)
        kpts = cand[keep, 4 + nc :].reshape(len(keep), nk, 3).copy()
        kpts[..., 0] = np.clip((kpts[..., 0] - px) / gx, 0, w)
        kpts[..., 1] = np.clip((kpts[..., 1] - py) / gy, 0, h)
        results.append(
            FrameDetections(
                xyxy=boxes,
                confidence=scores[idx][keep].astype(np.float32),
                class_id=cls[keep].astype(np.int32),
                track_id=np.full(len(keep), -1, np.int64),
                keypoints=kpts.astype(np.float32),
                frame_shape=(h, w),
                camera=frame.camera,
                frame_index=frame.index,
                ts=frame.ts,
            )
        )
    return results
