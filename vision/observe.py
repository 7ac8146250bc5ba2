"""Sampled frames and their detections → one camera's observation timeline.

:class:`TimelineBuilder` is what the batch drives for each export file: it owns the camera's
tracker, role votes and compiled zones, turns every sample into person rows (track, box,
zones, posture, face) and, in :meth:`TimelineBuilder.build`, writes each row's role as the
settled role of its track, so the first samples of a track carry the role it earned later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.config import CameraConfig
from vision.faces import face_boxes
from vision.posture import posture_features
from vision.roles import RoleAssigner, RoleParams
from vision.screens import ScreenMeter
from vision.timeline import NUM_POSTURES, NUM_SCREEN_MEASURES, UNIFORM_ROLES, ObservationTimeline
from vision.tracker import TORSO_HIST_KEY, Tracker, TrackerParams
from vision.types import FrameDetections, SampledFrame
from vision.zones import CompiledZones

logger = logging.getLogger(__name__)

PERSON_CLASS = 0
"""COCO class id of a person; other classes are not tracked as people."""


@dataclass(frozen=True)
class _Rows:
    """Person rows of one sample."""

    track_id: npt.NDArray[np.int64]
    xyxy: npt.NDArray[np.float32]
    in_zone: npt.NDArray[np.bool_]
    posture: npt.NDArray[np.int8]
    posture_value: npt.NDArray[np.float32]
    face_xyxy: npt.NDArray[np.float32]
    uniform_dist: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.track_id)


class TimelineBuilder:
    """Accumulates one camera's samples into an :class:`ObservationTimeline`.

    Args:
        branch: Branch id.
        camera: Camera configuration (zones and uniform signatures).
        frame_shape: ``(height, width)`` of the analysed frames.
        tracker_params: Tracker settings (defaults when ``None``).
        role_params: Role evidence weights (defaults when ``None``).

    Raises:
        ValueError: bad frame shape or uniform signatures (see :class:`CompiledZones` and
            :class:`RoleAssigner`).
    """

    def __init__(
        self,
        branch: str,
        camera: CameraConfig,
        frame_shape: tuple[int, int],
        tracker_params: TrackerParams | None = None,
        role_params: RoleParams | None = None,
    ) -> None:
        self.branch = branch
        self.camera = camera.id
        self.zones = CompiledZones.from_camera(camera, frame_shape)
        self.tracker = Tracker(camera.id, tracker_params)
        self.roles = RoleAssigner(camera, self.zones, role_params)
        self.screens = ScreenMeter(self.zones)
        self._screen: list[npt.NDArray[np.float32]] = []
        self._ts: list[float] = []
        self._inferred: list[bool] = []
        self._motion: list[float] = []
        self._rows: list[_Rows] = []

    def add(self, frame: SampledFrame, dets: FrameDetections | None, motion: float) -> None:
        """Add the next sample of the camera.

        Args:
            frame: The sampled frame.
            dets: Its detections, or ``None`` when the motion gate held the previous
                observation (its person rows are repeated, the sample marked not inferred).
            motion: The motion gate's change measure for this sample.

        Raises:
            ValueError: the frame or detections belong to another camera or frame size, or
                the frame is not later than the previous one.
        """
        ts = frame.ts.timestamp()
        if frame.camera != self.camera:
            raise ValueError(f"timeline of camera {self.camera!r} got a frame of {frame.camera!r}")
        if self._ts and ts <= self._ts[-1]:
            raise ValueError(
                f"camera {self.camera!r}: frame {frame.index} at {frame.ts.isoformat()} is not "
                "after the previous sample"
            )
        if tuple(frame.image.shape[:2]) != self.zones.frame_shape:
            raise ValueError(
                f"camera {self.camera!r}: frame {frame.index} is {frame.image.shape[:2]}, "
                f"the timeline was set up for {self.zones.frame_shape}"
            )
        if dets is None:
            rows = self._rows[-1] if self._rows else self._empty_rows()
        else:
            rows = self._observe(frame, dets)
        self._screen.append(self.screens.measure(frame.image))
        self._ts.append(ts)
        self._inferred.append(dets is not None)
        self._motion.append(float(motion))
        self._rows.append(rows)

    def _observe(self, frame: SampledFrame, dets: FrameDetections) -> _Rows:
        people = dets[dets.class_id == PERSON_CLASS]
        tracked = self.tracker.update(people, frame.image)
        in_zone = self.zones.trigger(tracked)
        h, w = tracked.frame_shape
        posture, posture_value = posture_features(tracked.keypoints, tracked.xyxy, frame_h=h)
        hists = tracked.data[TORSO_HIST_KEY]
        self.roles.observe(tracked.track_id, in_zone, hists)
        scale = np.array([w, h, w, h], np.float32)
        return _Rows(
            track_id=tracked.track_id,
            xyxy=tracked.normalized_xyxy(),
            in_zone=in_zone,
            posture=posture,
            posture_value=posture_value,
            face_xyxy=(face_boxes(tracked) / scale).astype(np.float32),
            uniform_dist=self.roles.uniform_distances(hists),
        )

    def _empty_rows(self) -> _Rows:
        return _Rows(
            track_id=np.zeros(0, np.int64),
            xyxy=np.zeros((0, 4), np.float32),
            in_zone=np.zeros((0, len(self.zones)), bool),
            posture=np.zeros((0, NUM_POSTURES), np.int8),
            posture_value=np.zeros((0, NUM_POSTURES), np.float32),
            face_xyxy=np.zeros((0, 4), np.float32),
            uniform_dist=np.zeros((0, len(UNIFORM_ROLES)), np.float32),
        )

    def build(self, coverage: npt.NDArray[np.float64]) -> ObservationTimeline:
        """The timeline of everything added so far.

        Args:
            coverage: ``(k, 2)`` intervals ``[start, end)`` (UTC epoch seconds) of footage
                that was looked at.

        Returns:
            The observation timeline; track ids are final (tracks re-identified later carry
            the older id from their first row) and every row's role is its track's role at
            the end.
        """
        rows = self._rows or [self._empty_rows()]
        counts = np.array([len(r) for r in self._rows], np.int64)
        for young in sorted(self.tracker.merged):
            self.roles.merge(young, int(self.tracker.canonical(np.array([young]))[0]))
        track_id = self.tracker.canonical(np.concatenate([r.track_id for r in rows]))
        role, role_conf = self.roles.roles(track_id)
        return ObservationTimeline(
            branch=self.branch,
            camera=self.camera,
            zones=self.zones.zone_infos(),
            ts=np.array(self._ts, np.float64),
            inferred=np.array(self._inferred, bool),
            motion=np.array(self._motion, np.float32),
            sample=np.repeat(np.arange(len(counts), dtype=np.int32), counts),
            track_id=track_id,
            role=role,
            role_conf=role_conf,
            xyxy=np.concatenate([r.xyxy for r in rows]),
            in_zone=np.concatenate([r.in_zone for r in rows]),
            posture=np.concatenate([r.posture for r in rows]),
            posture_value=np.concatenate([r.posture_value for r in rows]),
            face_xyxy=np.concatenate([r.face_xyxy for r in rows]),
            screen=np.array(self._screen, np.float32).reshape(
                len(self._ts), len(self.screens), NUM_SCREEN_MEASURES
            ),
            uniform_dist=np.concatenate([r.uniform_dist for r in rows]),
            coverage=np.asarray(coverage, np.float64).reshape(-1, 2),
        )
