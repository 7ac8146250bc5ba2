"""Zones compiled for one frame size: pixel polygons, rasterised masks and membership tests.

A camera's :class:`~vision.config.ZoneConfig` list stays pure data (normalised polygons). This
module derives the runtime geometry once per camera and frame size: every zone is rasterised
into a boolean mask at frame resolution, so membership of ``n`` people in ``Z`` zones is a
single fancy-index lookup ``masks[:, y, x]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.config import CameraConfig, ZoneKind
from vision.config.zone import Anchor
from vision.timeline import ZoneInfo
from vision.types import FrameDetections, Keypoint

logger = logging.getLogger(__name__)

HEAD_VISIBLE = 0.5
"""Nose visibility from which the head anchor is the nose itself rather than the box top."""

HEAD_BOX_FRACTION = 0.1
"""Head anchor without a visible nose: this fraction of the box height below the box top."""


def anchor_points(dets: FrameDetections, anchor: Anchor) -> npt.NDArray[np.float32]:
    """Pixel point of each person that decides zone membership.

    Args:
        dets: Detections of one frame.
        anchor: ``feet`` (bottom centre of the box), ``center`` (box centre) or ``head``
            (the nose keypoint when visible, else a point just below the box top).

    Returns:
        ``(n, 2)`` float32 ``x, y`` in pixels.

    Example:
        >>> from datetime import datetime, timezone
        >>> d = FrameDetections.empty((480, 640), "c1", 0, datetime.now(timezone.utc))
        >>> anchor_points(d, Anchor.FEET).shape
        (0, 2)
    """
    xyxy = dets.xyxy.astype(np.float64)
    cx = (xyxy[:, 0] + xyxy[:, 2]) / 2
    if anchor is Anchor.FEET:
        y = xyxy[:, 3]
    elif anchor is Anchor.CENTER:
        y = (xyxy[:, 1] + xyxy[:, 3]) / 2
    else:
        y = xyxy[:, 1] + HEAD_BOX_FRACTION * (xyxy[:, 3] - xyxy[:, 1])
        if dets.keypoints.shape[1] > Keypoint.NOSE:
            nose = dets.keypoints[:, Keypoint.NOSE]
            seen = nose[:, 2] >= HEAD_VISIBLE
            cx = np.where(seen, nose[:, 0], cx)
            y = np.where(seen, nose[:, 1], y)
    return np.stack([cx, y], axis=1).astype(np.float32)


def zone_infos(camera: CameraConfig) -> tuple[ZoneInfo, ...]:
    """A camera's zones as the observation timeline records them, in config order."""
    return tuple(ZoneInfo(z.id, z.kind.value, z.window_id) for z in camera.zones)


@dataclass(frozen=True, eq=False)
class CompiledZones:
    """The zones of one camera rasterised at one frame size.

    Attributes:
        camera: Camera id.
        frame_shape: ``(height, width)`` the masks and pixel polygons refer to.
        infos: Zone id, kind and window per zone, in config order (columns of ``trigger``).
        anchors: Anchor point of each zone.
        polygons: Pixel polygons, ``(k, 2)`` int32 each.
        masks: ``(Z, height, width)`` bool, ``True`` inside each zone.
    """

    camera: str
    frame_shape: tuple[int, int]
    infos: tuple[ZoneInfo, ...]
    anchors: tuple[Anchor, ...]
    polygons: tuple[npt.NDArray[np.int32], ...]
    masks: npt.NDArray[np.bool_]

    @classmethod
    def from_camera(cls, camera: CameraConfig, frame_shape: tuple[int, int]) -> CompiledZones:
        """Rasterise a camera's zones for frames of ``frame_shape``.

        Args:
            camera: Camera configuration holding normalised zone polygons.
            frame_shape: ``(height, width)`` of the analysed frames, in pixels.

        Returns:
            The compiled zones.

        Raises:
            ValueError: ``frame_shape`` is not two positive integers.

        Example:
            >>> from vision.config import ZoneConfig
            >>> cam = CameraConfig(id="c1", zones=[ZoneConfig(
            ...     id="hall", kind="lobby", polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])])
            >>> CompiledZones.from_camera(cam, (48, 64)).masks.shape
            (1, 48, 64)
        """
        if len(frame_shape) != 2 or any(int(s) != s or s <= 0 for s in frame_shape):
            raise ValueError(
                f"camera {camera.id!r}: frame_shape must be (height, width) > 0, got {frame_shape}"
            )
        h, w = int(frame_shape[0]), int(frame_shape[1])
        scale = np.array([w, h], np.float64)
        polygons: list[npt.NDArray[np.int32]] = []
        masks = np.zeros((len(camera.zones), h, w), bool)
        for i, zone in enumerate(camera.zones):
            # A normalised coordinate of 1.0 is the far edge of the last pixel.
            corners = np.round(np.asarray(zone.polygon, np.float64) * scale - 0.5)
            pts = np.clip(corners, 0, [w - 1, h - 1]).astype(np.int32)
            canvas = np.zeros((h, w), np.uint8)
            cv2.fillPoly(canvas, [pts.reshape(-1, 1, 2)], 1)
            masks[i] = canvas.astype(bool)
            polygons.append(pts)
            if not masks[i].any():
                logger.warning(
                    "camera %s: zone %s covers no pixel at %dx%d", camera.id, zone.id, w, h
                )
        return cls(
            camera=camera.id,
            frame_shape=(h, w),
            infos=zone_infos(camera),
            anchors=tuple(z.anchor for z in camera.zones),
            polygons=tuple(polygons),
            masks=masks,
        )

    def __len__(self) -> int:
        return len(self.infos)

    def zone_infos(self) -> tuple[ZoneInfo, ...]:
        """Zones as the observation timeline records them (columns of ``in_zone``)."""
        return self.infos

    def kind_columns(self, *kinds: ZoneKind) -> npt.NDArray[np.intp]:
        """Indices of the zones of the given kinds."""
        wanted = {k.value for k in kinds}
        return np.array([i for i, z in enumerate(self.infos) if z.kind in wanted], np.intp)

    def trigger(self, dets: FrameDetections) -> npt.NDArray[np.bool_]:
        """Which zones each person is in, tested at each zone's anchor point.

        Args:
            dets: Detections of a frame of this camera at ``frame_shape``.

        Returns:
            ``(n, Z)`` bool; anchors outside the frame are in no zone.

        Raises:
            ValueError: the detections come from another camera or frame size.
        """
        if dets.camera != self.camera:
            raise ValueError(
                f"zones of camera {self.camera!r} cannot test detections of {dets.camera!r}"
            )
        if tuple(dets.frame_shape) != self.frame_shape:
            raise ValueError(
                f"camera {self.camera!r}: detections refer to frames of {dets.frame_shape}, "
                f"zones were compiled for {self.frame_shape}"
            )
        n, z = len(dets), len(self.infos)
        out = np.zeros((n, z), bool)
        if n == 0 or z == 0:
            return out
        h, w = self.frame_shape
        for anchor in set(self.anchors):
            cols = np.array([i for i, a in enumerate(self.anchors) if a is anchor], np.intp)
            pts = anchor_points(dets, anchor)
            # The feet point sits on the box's bottom edge, which may equal the frame height.
            ok = np.isfinite(pts).all(axis=1) & (pts >= 0).all(axis=1)
            ok &= (pts[:, 0] <= w) & (pts[:, 1] <= h)
            safe = np.where(ok[:, None], pts, 0).astype(np.int64)
            x = np.minimum(safe[:, 0], w - 1)
            y = np.minimum(safe[:, 1], h - 1)
            hits = self.masks[cols[:, None], y[ok][None, :], x[ok][None, :]]
            out[np.ix_(ok.nonzero()[0], cols)] = hits.T
        return out

    def occupancy(self, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int32]:
        """People per zone from a ``trigger`` result.

        Args:
            mask: ``(n, Z)`` bool membership of one frame.

        Returns:
            ``(Z,)`` int32 counts.

        Raises:
            ValueError: ``mask`` does not have one column per zone.
        """
        if mask.ndim != 2 or mask.shape[1] != len(self.infos):
            raise ValueError(
                f"camera {self.camera!r}: occupancy needs an (n, {len(self.infos)}) mask, "
                f"got {mask.shape}"
            )
        counts: npt.NDArray[np.int32] = mask.sum(axis=0).astype(np.int32)
        return counts
