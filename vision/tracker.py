"""Tracking people across frames sampled seconds apart.

At one frame every 2 s people move far between samples, so box overlap alone cannot link
them. :class:`Tracker` links detections to tracks in two stages, each solved with the
Hungarian algorithm:

1. **active tracks** (seen within ``lost_after_s``): cost mixes torso-colour distance,
   distance of the detection from the track's predicted centre (constant velocity), in box
   heights, relative to a gate that grows with the time since the track was seen
   (``gate_slack + max_speed * dt``), and box overlap;
2. **lost tracks** (unseen for up to ``max_age_s``): re-identified by torso colour alone,
   inside the same, by then wide, position gate.

Colours are only trusted from clear views (:func:`clear_views`: not cut by the frame edge,
not covered by another person). Unmatched detections start new tracks; a track born without
a clear view (someone walking in at the edge) is re-identified as a lost track at its first
clear view, and :meth:`Tracker.canonical` maps its early ids to the older one. Tracks unseen
for longer than ``max_age_s`` are dropped. All state lives in the per-camera
:class:`Tracker` object, none in the model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import Field
from scipy.optimize import linear_sum_assignment

from vision.config import StrictModel
from vision.roles import hist_distance, torso_histogram
from vision.types import FrameDetections, box_iou

logger = logging.getLogger(__name__)

TORSO_HIST_KEY = "torso_hist"
"""Key in ``FrameDetections.data`` under which :meth:`Tracker.update` leaves each person's
torso histogram, so later stages (roles) need not compute it again."""

_INVALID = 1e6


class TrackerParams(StrictModel):
    """Association settings of the low-frame-rate tracker."""

    max_speed: float = Field(
        default=1.5, gt=0.0, le=20.0,
        description="Fastest plausible motion, in box heights per second (walking is ~0.8).",
    )  # fmt: skip
    gate_slack: float = Field(
        default=0.75, ge=0.0, le=20.0,
        description="Position gate radius at dt = 0, in box heights (detector jitter, posture).",
    )  # fmt: skip
    max_appearance: float = Field(
        default=0.6, gt=0.0, le=1.0,
        description="Largest torso-colour Bhattacharyya distance for an active-track match.",
    )  # fmt: skip
    reid_max_appearance: float = Field(
        default=0.35, gt=0.0, le=1.0,
        description="Largest torso-colour distance to re-identify a lost track.",
    )  # fmt: skip
    w_appearance: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Weight of colour distance in the active cost."
    )
    w_position: float = Field(
        default=0.35,
        ge=0.0,
        le=1.0,
        description="Weight of gated centre distance in the active cost.",
    )
    w_iou: float = Field(
        default=0.15, ge=0.0, le=1.0, description="Weight of (1 - IoU) in the active cost."
    )
    lost_after_s: float = Field(
        default=5.0, gt=0.0, le=600.0,
        description="A track unseen for longer is 'lost' and only re-identified by colour.",
    )  # fmt: skip
    max_age_s: float = Field(
        default=60.0, gt=0.0, le=3600.0,
        description="A track unseen for longer is dropped for good.",
    )  # fmt: skip
    edge_margin: float = Field(
        default=0.01, ge=0.0, le=0.2,
        description="Boxes closer to the frame edge than this fraction are cut off: their "
        "colours are not trusted.",
    )  # fmt: skip
    max_covered: float = Field(
        default=0.2, ge=0.0, le=1.0,
        description="Largest share of a box covered by another detection for its colours to "
        "be trusted.",
    )  # fmt: skip
    merge_window_s: float = Field(
        default=10.0, ge=0.0, le=600.0,
        description="A track born without a clear view (entering at the edge, in a crowd) is "
        "re-identified as a lost track at its first clear view within this time.",
    )  # fmt: skip
    appearance_momentum: float = Field(
        default=0.7, ge=0.0, lt=1.0,
        description="Share of the old colour histogram kept at each update (moving average).",
    )  # fmt: skip
    velocity_momentum: float = Field(
        default=0.5, ge=0.0, lt=1.0, description="Share of the old velocity kept at each update."
    )


@dataclass
class _Track:
    """Mutable state of one track (owned by :class:`Tracker`).

    ``clean`` tells whether ``hist`` comes from a clear view (see :func:`clear_views`); a track
    born at the frame edge or in a crowd carries a provisional colour until its first clear
    view.
    """

    id: int
    xyxy: npt.NDArray[np.float64]
    hist: npt.NDArray[np.float32]
    clean: bool
    born_ts: float
    last_ts: float
    velocity: npt.NDArray[np.float64]
    hits: int = 1


def _centres(xyxy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.stack([(xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2], axis=1)


def _intersection(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.asarray(np.prod(np.clip(rb - lt, 0, None), axis=2))


def clear_views(
    xyxy: npt.NDArray[np.float64], frame_shape: tuple[int, int], params: TrackerParams
) -> npt.NDArray[np.bool_]:
    """Which detections show their person's colours reliably: not cut by the frame edge and
    not covered by another detection.

    Args:
        xyxy: ``(n, 4)`` boxes in pixels.
        frame_shape: ``(height, width)`` of the frame.
        params: Edge margin and overlap limit.

    Returns:
        ``(n,)`` bool.

    Example:
        >>> boxes = np.array([[100.0, 10, 130, 90], [0, 10, 30, 90]])
        >>> clear_views(boxes, (100, 200), TrackerParams()).tolist()  # 2nd: cut by the edge
        [True, False]
    """
    h, w = frame_shape
    mx, my = params.edge_margin * w, params.edge_margin * h
    inside = (xyxy[:, 0] > mx) & (xyxy[:, 1] > my) & (xyxy[:, 2] < w - mx) & (xyxy[:, 3] < h - my)
    inter = _intersection(xyxy, xyxy)
    np.fill_diagonal(inter, 0.0)
    area = np.maximum(np.prod(xyxy[:, 2:] - xyxy[:, :2], axis=1), 1e-9)
    covered = inter.max(axis=1, initial=0.0) / area
    return np.asarray(inside & (covered <= params.max_covered))


class Tracker:
    """Explicit tracking state of one camera.

    Args:
        camera: Camera id; detections of other cameras are refused.
        params: Association settings.

    Example:
        >>> t = Tracker("cam1")
        >>> t.next_id
        1
    """

    def __init__(self, camera: str, params: TrackerParams | None = None) -> None:
        self.camera = camera
        self.params = params or TrackerParams()
        self.tracks: list[_Track] = []
        self.next_id = 1
        self.last_ts: float | None = None
        self.merged: dict[int, int] = {}
        """Young track ids re-identified as an older, lost track: young id → older id."""

    def canonical(self, track_id: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Track ids with every merged young track replaced by the track it turned out to be.

        Args:
            track_id: ``(n,)`` ids as returned by earlier :meth:`update` calls.

        Returns:
            ``(n,)`` final ids.
        """
        out = np.asarray(track_id, np.int64).copy()
        for _ in range(len(self.merged)):
            mapped = np.array([self.merged.get(int(t), int(t)) for t in out], np.int64)
            if np.array_equal(mapped, out):
                break
            out = mapped
        return out

    def update(self, dets: FrameDetections, image: npt.NDArray[np.uint8]) -> FrameDetections:
        """Link one frame's detections to tracks.

        Args:
            dets: Person detections of the next sampled frame of this camera.
            image: The frame (BGR ``uint8``) the detections' pixel coordinates refer to.

        Returns:
            ``dets`` with ``track_id`` set and the torso histograms in
            ``data[TORSO_HIST_KEY]``.

        Raises:
            ValueError: wrong camera, image of another size, or a time not after the last one.
        """
        if dets.camera != self.camera:
            raise ValueError(f"tracker of camera {self.camera!r} got detections of {dets.camera!r}")
        if tuple(image.shape[:2]) != tuple(dets.frame_shape):
            raise ValueError(
                f"camera {self.camera!r}: image is {image.shape[:2]}, detections refer to "
                f"{dets.frame_shape}"
            )
        now = dets.ts.timestamp()
        if self.last_ts is not None and now <= self.last_ts:
            raise ValueError(
                f"camera {self.camera!r}: frame at {dets.ts.isoformat()} is not after the "
                "previous one"
            )
        self.last_ts = now
        p = self.params
        hists = torso_histogram(image, dets.xyxy, dets.keypoints)
        boxes = dets.xyxy.astype(np.float64)
        clean = clear_views(boxes, dets.frame_shape, p)
        self.tracks = [t for t in self.tracks if now - t.last_ts <= p.max_age_s]
        ids = np.full(len(dets), -1, np.int64)
        active = [t for t in self.tracks if now - t.last_ts <= p.lost_after_s]
        lost = [t for t in self.tracks if now - t.last_ts > p.lost_after_s and t.clean]
        free = np.arange(len(dets))
        matched: list[tuple[_Track, int]] = []
        for tracks, reid in ((active, False), (lost, True)):
            cands = free[clean[free]] if reid else free  # re-identify from clear views only
            if not len(cands) or not tracks:
                continue
            cost = self._cost(tracks, boxes[cands], hists[cands], clean[cands], now, reid)
            rows, cols = linear_sum_assignment(cost)
            ok = cost[rows, cols] < _INVALID
            for r, c in zip(rows[ok], cols[ok], strict=True):
                det = int(cands[c])
                matched.append((tracks[r], det))
                ids[det] = tracks[r].id
            free = free[ids[free] < 0]
        for track, det in matched:
            first_clear = clean[det] and not track.clean
            self._advance(track, boxes[det], hists[det], bool(clean[det]), now)
            if first_clear and now - track.born_ts <= p.merge_window_s:
                ids[det] = self._merge_into_lost(track, now)
        for det in free.tolist():
            track = _Track(self.next_id, boxes[det], hists[det], bool(clean[det]), now, now,
                           np.zeros(2))  # fmt: skip
            self.tracks.append(track)
            ids[det] = track.id
            self.next_id += 1
        return FrameDetections(
            xyxy=dets.xyxy,
            confidence=dets.confidence,
            class_id=dets.class_id,
            track_id=ids,
            keypoints=dets.keypoints,
            frame_shape=dets.frame_shape,
            camera=dets.camera,
            frame_index=dets.frame_index,
            ts=dets.ts,
            data={**dets.data, TORSO_HIST_KEY: hists},
        )

    def _merge_into_lost(self, young: _Track, now: float) -> int:
        """Re-identify a young track, just seen clearly for the first time, as a track lost
        before it was born; returns the id the young track's person now carries."""
        p = self.params
        older = [t for t in self.tracks
                 if t.clean and t.last_ts < young.born_ts and t is not young]  # fmt: skip
        if not older:
            return young.id
        app = hist_distance(young.hist[None], np.array([t.hist for t in older]))[0]
        dt = np.array([young.born_ts - t.last_ts for t in older])
        heights = np.array([t.xyxy[3] - t.xyxy[1] for t in older]) + young.xyxy[3] - young.xyxy[1]
        first = _centres(young.xyxy[None])[0]
        dist = np.linalg.norm(_centres(np.array([t.xyxy for t in older])) - first, axis=1)
        fits = (app <= p.reid_max_appearance) & (
            dist / np.maximum(heights / 2, 1.0) <= p.gate_slack + p.max_speed * dt
        )
        if not fits.any():
            return young.id
        best = older[int(np.argmin(np.where(fits, app, np.inf)))]
        logger.debug("camera %s: track %d is lost track %d again", self.camera, young.id, best.id)
        best.xyxy, best.last_ts, best.velocity = young.xyxy, young.last_ts, young.velocity
        best.hits += young.hits
        self.tracks.remove(young)
        self.merged[young.id] = best.id
        return best.id

    def _cost(
        self,
        tracks: list[_Track],
        boxes: npt.NDArray[np.float64],
        hists: npt.NDArray[np.float32],
        clean: npt.NDArray[np.bool_],
        now: float,
        reid: bool,
    ) -> npt.NDArray[np.float64]:
        """``(tracks, detections)`` association cost, ``_INVALID`` outside the gates."""
        p = self.params
        t_boxes = np.array([t.xyxy for t in tracks])
        dt = np.array([now - t.last_ts for t in tracks])
        velocity = np.array([t.velocity for t in tracks])
        predicted = _centres(t_boxes) + (0.0 if reid else velocity * dt[:, None])
        heights = (t_boxes[:, 3] - t_boxes[:, 1])[:, None] + (boxes[:, 3] - boxes[:, 1])[None]
        dist = np.linalg.norm(predicted[:, None] - _centres(boxes)[None], axis=2) / np.maximum(
            heights / 2, 1.0
        )
        radius = (p.gate_slack + p.max_speed * dt)[:, None]
        app = hist_distance(np.array([t.hist for t in tracks]), hists).astype(np.float64)
        if reid:
            cost = app.copy()
            invalid = (app > p.reid_max_appearance) | (dist > radius)
        else:
            # Colours only count where both views are clear (not cut off, not overlapped).
            reliable = np.array([t.clean for t in tracks])[:, None] & clean[None, :]
            app = np.where(reliable, app, p.max_appearance / 2)
            iou = box_iou(t_boxes, boxes)
            pos = np.minimum(dist / np.maximum(radius, 1e-6), 1.0)
            cost = p.w_appearance * app + p.w_position * pos + p.w_iou * (1.0 - iou)
            invalid = (app > p.max_appearance) | (dist > radius)
        cost[invalid] = _INVALID
        return np.asarray(cost)

    def _advance(
        self, track: _Track, box: npt.NDArray[np.float64], hist: npt.NDArray[np.float32],
        clean: bool, now: float,
    ) -> None:  # fmt: skip
        """Move a matched track to its new detection; learn its colours from clear views."""
        p = self.params
        dt = now - track.last_ts
        step = (_centres(box[None]) - _centres(track.xyxy[None]))[0] / max(dt, 1e-6)
        if track.hits == 1:
            track.velocity = step
        else:
            track.velocity = p.velocity_momentum * track.velocity + (1 - p.velocity_momentum) * step
        if clean and hist.sum() > 0:
            if track.clean:
                m = p.appearance_momentum
                track.hist = (m * track.hist + (1 - m) * hist).astype(np.float32)
            else:
                track.hist, track.clean = hist, True
        track.xyxy = box
        track.last_ts = now
        track.hits += 1


def count_id_switches(
    frame: npt.NDArray[np.int64], truth_id: npt.NDArray[np.int64], track_id: npt.NDArray[np.int64]
) -> int:
    """ID switches of matched detections (CLEAR-MOT style).

    A switch is counted each time a true identity is matched to a different track id than
    the last time it was matched. Frames where it is not matched are skipped.

    Args:
        frame: ``(k,)`` frame index of each match.
        truth_id: ``(k,)`` true identity of each match.
        track_id: ``(k,)`` track id given by the tracker.

    Returns:
        The number of switches.

    Example:
        >>> f = np.array([0, 1, 2, 3]); t = np.zeros(4, np.int64)
        >>> count_id_switches(f, t, np.array([5, 5, 7, 7]))
        1
    """
    order = np.lexsort((frame, truth_id))
    t, k = truth_id[order], track_id[order]
    same_person = t[1:] == t[:-1]
    return int(np.sum(same_person & (k[1:] != k[:-1])))
