"""Static objects: things left in the customer's view that stay put against the clean reference.

One :class:`StaticObjectLayer` per camera and file holds all temporal state explicitly:

* the in-memory reference (see :mod:`vision.reference` for how it is made and refreshed);
* per work pixel, ``since`` (time from which the pixel has differed from the reference without
  a break longer than ``gap_samples``), ``seen`` (seconds of that time in which the pixel was
  visible, i.e. not behind a widened person box) and ``misses``. Pixels behind a person keep
  their state, so an object hidden for a while by a passing customer keeps its first-seen time;
* tracked objects: connected regions whose pixels have differed for ``persistence_s``, of a
  plausible size, lying mostly in ``customer_view`` / ``self_service`` zones, matched from
  sample to sample by box overlap. A region starts a new object only if it was in sight for
  ``min_visible`` of the time it has differed; a tracked object lives on while hidden.

An optional object detector names each object from a crop around it; the layer accepts any
callable that maps a :class:`~vision.types.SampledFrame` (here: the crop) to
:class:`~vision.types.FrameDetections` of COCO classes. Without one every object is
``"unknown object"``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vision.config import CameraConfig, ZoneKind
from vision.config.clutter import COCO_NAMES, ClutterConfig
from vision.object_labels import ObjectLabeller, best_label, padded_crop
from vision.reference import (
    GreyImage,
    Mask,
    ReferenceStill,
    compare,
    is_ghost,
    median_reference,
    person_mask,
    refresh,
    still_to_work,
    to_work_grey,
    work_shape,
)
from vision.timeline import UNKNOWN_LABEL, StaticObjects
from vision.types import FrameDetections, SampledFrame, box_iou
from vision.zones import CompiledZones

logger = logging.getLogger(__name__)

TARGET_KINDS = (ZoneKind.CUSTOMER_VIEW, ZoneKind.SELF_SERVICE)
EXCLUDED_KINDS = (ZoneKind.IGNORE, ZoneKind.SCREEN)


@dataclass(frozen=True)
class StaticObject:
    """One object that stayed put, with its evidence crop.

    Attributes:
        track_id: Id of the object within the layer.
        first_seen: UTC epoch seconds from which it differed from the reference.
        last_seen: UTC epoch seconds of the last sample in which it was there.
        xyxy: Normalised ``(4,)`` float32 box.
        zone: Index of its zone among the camera's zones.
        zone_id: Id of that zone.
        label: COCO class name, or ``"unknown object"``.
        confidence: Object-detector confidence of the label; 0 for ``"unknown object"``.
        crop: BGR crop around the object (``crop_pad`` context), taken with no person in front
            of it when such a sample occurred.
    """

    track_id: int
    first_seen: float
    last_seen: float
    xyxy: npt.NDArray[np.float32]
    zone: int
    zone_id: str
    label: str
    confidence: float
    crop: npt.NDArray[np.uint8]


@dataclass
class _Track:
    id: int
    first_seen: float
    last_seen: float
    box: npt.NDArray[np.int64]  # work pixels, xyxy (exclusive end)
    zone: int
    crop: npt.NDArray[np.uint8]
    crop_clear: bool
    label: str = UNKNOWN_LABEL
    confidence: float = 0.0
    label_tries: int = 0
    misses: int = 0


@dataclass
class _Geometry:
    frame_shape: tuple[int, int]
    shape: tuple[int, int]
    zones: CompiledZones
    analysable: Mask
    target_cols: npt.NDArray[np.intp]
    target: Mask


@dataclass
class _PixelState:
    reference: GreyImage
    known: Mask
    since: npt.NDArray[np.float64]
    seen: npt.NDArray[np.float32]
    misses: npt.NDArray[np.uint8]

    @classmethod
    def start(cls, reference: GreyImage, known: Mask) -> _PixelState:
        return cls(
            reference=reference.copy(),
            known=known.copy(),
            since=np.full(reference.shape, np.nan),
            seen=np.zeros(reference.shape, np.float32),
            misses=np.zeros(reference.shape, np.uint8),
        )

    def forget(self, region: Mask) -> None:
        self.since[region] = np.nan
        self.seen[region] = 0
        self.misses[region] = 0


@dataclass
class _Bootstrap:
    samples: list[tuple[SampledFrame, FrameDetections]] = field(default_factory=list)
    greys: list[GreyImage] = field(default_factory=list)
    occluded: list[Mask] = field(default_factory=list)


class StaticObjectLayer:
    """Finds objects left in the customer's view of one camera, sample by sample.

    Args:
        camera: The camera (its zones decide where objects count and what is ignored).
        config: Thresholds and reference policy.
        reference: A still marked clean by the user; without one the reference is the masked
            median of the first ``config.bootstrap_samples`` samples.
        detector: Optional object detector that names objects (see :data:`ObjectLabeller`).
        class_names: Class names of the detector's class ids (COCO order by default, e.g.
            ``ObjectDetector.weights.class_names``).

    Example:
        >>> layer = StaticObjectLayer(CameraConfig(id="c1"), ClutterConfig())
        >>> len(layer.result())
        0
    """

    def __init__(
        self,
        camera: CameraConfig,
        config: ClutterConfig,
        reference: ReferenceStill | None = None,
        detector: ObjectLabeller | None = None,
        class_names: Sequence[str] = COCO_NAMES,
    ) -> None:
        self.camera = camera
        self.config = config
        self.detector = detector
        self.class_names = tuple(class_names)
        self._still = reference
        self._geometry: _Geometry | None = None
        self._pixels: _PixelState | None = None
        self._boot = _Bootstrap()
        self._active: list[_Track] = []
        self._done: list[_Track] = []
        self._next_id = 0
        self._last_ts: float | None = None
        self._step_ts: float | None = None

    # --- public --------------------------------------------------------------------------

    def update(self, frame: SampledFrame, persons: FrameDetections) -> None:
        """Take in one sampled frame and the people detected in it.

        Args:
            frame: The sampled frame (BGR).
            persons: Detections of the same frame (class 0 rows are people; boxes may refer to
                any frame size, they are used normalised).

        Raises:
            ValueError: the frame or detections belong to another camera, the frame size
                changed, or time went backwards.
            vision.reference.ReferenceError: the stored clean still does not fit the frames.
        """
        if frame.camera != self.camera.id or persons.camera != self.camera.id:
            raise ValueError(
                f"static-object layer of camera {self.camera.id!r} got a frame of "
                f"{frame.camera!r} with detections of {persons.camera!r}"
            )
        ts = frame.ts.timestamp()
        if self._last_ts is not None and ts <= self._last_ts:
            raise ValueError(
                f"camera {self.camera.id!r}: sample at {frame.ts.isoformat()} is not after the "
                "previous one"
            )
        self._last_ts = ts
        geometry = self._geometry_for(frame)
        if self._pixels is not None:
            self._step(frame, persons, geometry, self._pixels)
            return
        self._boot.samples.append((frame, persons))
        self._boot.greys.append(to_work_grey(frame.image, geometry.shape))
        self._boot.occluded.append(
            person_mask(persons, geometry.shape, self.config.person_pad) | ~geometry.analysable
        )
        if len(self._boot.samples) >= self.config.bootstrap_samples:
            self._finish_bootstrap(geometry)

    def objects(self) -> tuple[StaticObject, ...]:
        """All static objects so far (ended and still present), by first-seen time.

        Objects whose label the per-zone filter (``zone_labels``) excludes are left out.
        """
        if self._pixels is None and self._boot.samples and self._geometry is not None:
            self._finish_bootstrap(self._geometry)
        if self._geometry is None:
            return ()
        geometry = self._geometry
        h, w = geometry.shape
        scale = np.array([w, h, w, h], np.float32)
        out = []
        for track in sorted(self._done + self._active, key=lambda t: (t.first_seen, t.id)):
            info = geometry.zones.infos[track.zone]
            allowed = self.config.zone_labels.get(info.id, self.config.zone_labels.get(info.kind))
            if allowed is not None and track.label not in allowed:
                continue
            out.append(
                StaticObject(
                    track_id=track.id,
                    first_seen=track.first_seen,
                    last_seen=track.last_seen,
                    xyxy=(track.box.astype(np.float32) / scale).astype(np.float32),
                    zone=track.zone,
                    zone_id=info.id,
                    label=track.label,
                    confidence=track.confidence,
                    crop=track.crop,
                )
            )
        return tuple(out)

    def result(self) -> StaticObjects:
        """The static objects as the observation timeline stores them."""
        found = self.objects()
        if not found:
            return StaticObjects.empty()
        return StaticObjects(
            first_seen=np.array([o.first_seen for o in found], np.float64),
            last_seen=np.array([o.last_seen for o in found], np.float64),
            xyxy=np.stack([o.xyxy for o in found]).astype(np.float32),
            zone=np.array([o.zone for o in found], np.int32),
            label=np.array([o.label for o in found], "<U32"),
            confidence=np.array([o.confidence for o in found], np.float32),
        )

    @property
    def reference(self) -> GreyImage | None:
        """The current in-memory work reference (grey, 0–1), once there is one."""
        return None if self._pixels is None else self._pixels.reference

    # --- setup ---------------------------------------------------------------------------

    def _geometry_for(self, frame: SampledFrame) -> _Geometry:
        frame_shape = (int(frame.image.shape[0]), int(frame.image.shape[1]))
        if self._geometry is not None:
            if frame_shape != self._geometry.frame_shape:
                raise ValueError(
                    f"camera {self.camera.id!r}: frame size changed from "
                    f"{self._geometry.frame_shape} to {frame_shape}"
                )
            return self._geometry
        shape = work_shape(frame_shape, self.config.work_width)
        zones = CompiledZones.from_camera(self.camera, shape)
        excluded = zones.kind_columns(*EXCLUDED_KINDS)
        target_cols = zones.kind_columns(*TARGET_KINDS)
        if len(target_cols) == 0:
            logger.info(
                "camera %s has no customer_view/self_service zone: no clutter checks",
                self.camera.id,
            )
        self._geometry = _Geometry(
            frame_shape=frame_shape,
            shape=shape,
            zones=zones,
            analysable=np.asarray(~zones.masks[excluded].any(axis=0), bool),
            target_cols=target_cols,
            target=np.asarray(zones.masks[target_cols].any(axis=0), bool),
        )
        if self._still is not None:
            image = still_to_work(self._still.image, frame_shape, shape, self.camera.id)
            self._pixels = _PixelState.start(image, np.ones(shape, bool))
            logger.info(
                "camera %s: clean reference from the still marked %s (%s)",
                self.camera.id,
                self._still.marked_at.isoformat(),
                self._still.source,
            )
        return self._geometry

    def _finish_bootstrap(self, geometry: _Geometry) -> None:
        image, known = median_reference(self._boot.greys, self._boot.occluded)
        self._pixels = _PixelState.start(image, known)
        samples, self._boot = self._boot.samples, _Bootstrap()
        logger.debug("camera %s: median reference of %d samples", self.camera.id, len(samples))
        for frame, persons in samples:
            self._step(frame, persons, geometry, self._pixels)

    # --- per sample ----------------------------------------------------------------------

    def _step(
        self, frame: SampledFrame, persons: FrameDetections, geo: _Geometry, px: _PixelState
    ) -> None:
        cfg = self.config
        ts = frame.ts.timestamp()
        dt = 0.0 if self._step_ts is None else ts - self._step_ts
        self._step_ts = ts
        grey = to_work_grey(frame.image, geo.shape)
        occluded = person_mask(persons, geo.shape, cfg.person_pad)
        visible = geo.analysable & ~occluded
        learn = visible & ~px.known
        px.reference[learn] = grey[learn]
        px.known |= learn
        observed = visible & px.known
        tracked = np.isfinite(px.since)
        cmp = compare(grey, px.reference, observed & ~tracked, cfg)
        changed = cmp.changed & observed
        start = changed & ~tracked
        px.since[start] = ts
        px.seen[changed & ~start] += np.float32(dt)
        px.misses[changed] = 0
        lost = observed & ~cmp.changed & np.isfinite(px.since)
        px.misses[lost] += 1
        px.forget(lost & (px.misses > cfg.gap_samples))
        refresh(
            px.reference,
            grey,
            cmp.gain,
            observed & cmp.clean & ~np.isfinite(px.since),
            cfg.blend_rate,
        )
        with np.errstate(invalid="ignore"):
            static = ts - px.since >= cfg.persistence_s - 1e-6
        self._track(frame, static, occluded, cmp.corrected, geo, px)

    def _blobs(
        self, static: Mask, now: float, geo: _Geometry, px: _PixelState
    ) -> tuple[
        npt.NDArray[np.int32],
        npt.NDArray[np.intp],
        npt.NDArray[np.int64],
        npt.NDArray[np.intp],
        npt.NDArray[np.bool_],
    ]:
        """Connected static regions that fit the size limits and lie in target zones.

        Returns:
            The label image, the kept labels, their xyxy boxes, their zone indices and whether
            each was in sight long enough to start a new object.
        """
        cfg = self.config
        h, w = geo.shape
        ys, xs = np.nonzero(static)
        labels = np.zeros((h, w), np.int32)
        if len(ys) == 0 or len(geo.target_cols) == 0:
            none = np.zeros(0, np.intp)
            return labels, none, np.zeros((0, 4), np.int64), none, np.zeros(0, bool)
        # Parts closer than merge_gap form one object (camouflaged stretches of its outline);
        # the object keeps only its own changed pixels, so its box stays tight.
        reach = 2 * max(1, round(cfg.merge_gap * w / 2)) + 1
        grown = cv2.dilate(static.astype(np.uint8), np.ones((reach, reach), np.uint8))
        n, grouped = cv2.connectedComponents(grown, connectivity=8)
        lab = grouped[ys, xs].astype(np.int32)
        labels[ys, xs] = lab
        ids = np.arange(1, n)
        area = np.bincount(lab, minlength=n)[1:]
        slices = ndimage.find_objects(labels, max_label=n - 1)
        spans = np.array(
            [
                [0, 0, 0, 0] if sl is None else [sl[1].start, sl[0].start, sl[1].stop, sl[0].stop]
                for sl in slices
            ],
            np.int64,
        ).reshape(-1, 4)
        bw, bh = spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1]
        ok = (area > 0) & (bw * bh >= cfg.min_area * h * w) & (bw * bh <= cfg.max_area * h * w)
        ok &= (bw <= cfg.max_side * w) & (bh <= cfg.max_side * h)
        # A new object must have been in sight for min_visible of the time it has differed.
        seen = np.bincount(lab, weights=px.seen[ys, xs], minlength=n)[1:]
        aged = np.bincount(lab, weights=now - px.since[ys, xs], minlength=n)[1:]
        visible_enough = seen >= cfg.min_visible * aged - 1e-6
        per_zone = np.stack(
            [np.bincount(lab[geo.zones.masks[c][ys, xs]], minlength=n)[1:] for c in geo.target_cols]
        )
        inside = np.bincount(lab[geo.target[ys, xs]], minlength=n)[1:]
        ok &= inside >= cfg.min_zone_overlap * area
        zone = geo.target_cols[per_zone.argmax(axis=0)]
        return labels, ids[ok], spans[ok], zone[ok], visible_enough[ok]

    def _track(
        self,
        frame: SampledFrame,
        static: Mask,
        occluded: Mask,
        corrected: GreyImage,
        geo: _Geometry,
        px: _PixelState,
    ) -> None:
        cfg = self.config
        ts = frame.ts.timestamp()
        labels, ids, boxes, zones, confirmable = self._blobs(static, ts, geo, px)
        active = self._active
        matched_track: dict[int, int] = {}
        if active and len(ids):
            iou = box_iou(np.stack([t.box for t in active]), boxes)
            for flat in np.argsort(-iou, axis=None):
                ti, bi = np.unravel_index(flat, iou.shape)
                if iou[ti, bi] < cfg.match_iou:
                    break
                if ti in matched_track or bi in matched_track.values():
                    continue
                matched_track[int(ti)] = int(bi)
        for ti, bi in matched_track.items():
            track = active[ti]
            track.box, track.zone, track.misses = boxes[bi], int(zones[bi]), 0
            x0, y0, x1, y1 = (int(v) for v in boxes[bi])
            inside = labels[y0:y1, x0:x1] == ids[bi]
            # Present now (changed or hidden behind a person), not only within the gap tolerance.
            if (px.misses[y0:y1, x0:x1][inside] == 0).mean() >= 0.5:
                track.last_seen = ts
            self._refresh(track, frame, occluded, geo)
        still_active = []
        for ti, track in enumerate(active):
            if ti not in matched_track:
                if self._is_fragment(track, boxes[list(matched_track.values())]):
                    continue
                track.misses += 1
                if track.misses > cfg.gap_samples:
                    self._done.append(track)
                    continue
            still_active.append(track)
        self._active = still_active
        taken = set(matched_track.values())
        for bi in range(len(ids)):
            if bi in taken or not confirmable[bi]:
                continue
            region = labels == ids[bi]
            if is_ghost(corrected, px.reference, region, cfg.ghost_ratio):
                px.reference[region] = corrected[region]
                px.forget(region)
                logger.debug(
                    "camera %s: removed reference object absorbed at %s",
                    self.camera.id,
                    boxes[bi].tolist(),
                )
                continue
            self._start_track(frame, region, boxes[bi], int(zones[bi]), occluded, geo, px)

    @staticmethod
    def _is_fragment(track: _Track, boxes: npt.NDArray[np.int64]) -> bool:
        """Whether an unmatched track lies mostly inside a matched region (a part of an object
        that was seen first while the rest was hidden): it is merged away."""
        if len(boxes) == 0:
            return False
        lo = np.maximum(track.box[:2], boxes[:, :2])
        hi = np.minimum(track.box[2:], boxes[:, 2:])
        inter = np.clip(hi - lo, 0, None).prod(axis=1)
        return bool((inter >= 0.5 * (track.box[2:] - track.box[:2]).prod()).any())

    def _start_track(
        self,
        frame: SampledFrame,
        region: Mask,
        box: npt.NDArray[np.int64],
        zone: int,
        occluded: Mask,
        geo: _Geometry,
        px: _PixelState,
    ) -> None:
        since = px.since[region]
        track = _Track(
            id=self._next_id,
            first_seen=float(np.median(since[np.isfinite(since)])),
            last_seen=frame.ts.timestamp(),
            box=box,
            zone=zone,
            crop=np.zeros((0, 0, 3), np.uint8),
            crop_clear=False,
        )
        self._next_id += 1
        self._active.append(track)
        self._refresh(track, frame, occluded, geo)
        logger.debug(
            "camera %s: static object %d in zone %s",
            self.camera.id,
            track.id,
            geo.zones.infos[zone].id,
        )

    def _refresh(self, track: _Track, frame: SampledFrame, occluded: Mask, geo: _Geometry) -> None:
        """Update the crop (prefer one with nobody in front) and try the object detector."""
        x0, y0, x1, y1 = (int(v) for v in track.box)
        clear = not occluded[y0:y1, x0:x1].any()
        if track.crop.size and (track.crop_clear or not clear):
            return
        fh, fw = geo.frame_shape
        h, w = geo.shape
        scale = np.array([fw / w, fh / h, fw / w, fh / h])
        crop, inner = padded_crop(frame.image, track.box * scale, self.config.crop_pad)
        track.crop, track.crop_clear = crop, clear
        if self.detector is None or track.label != UNKNOWN_LABEL:
            return
        if track.label_tries >= self.config.label_attempts:
            return
        track.label_tries += 1
        found = self.detector(SampledFrame(frame.camera, frame.ts, frame.index, crop))
        label, confidence = best_label(
            found, inner, self.class_names, self.config.labels, self.config.label_confidence
        )
        if label is not None:
            track.label, track.confidence = label, confidence
