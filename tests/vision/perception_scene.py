"""Shared, cached test material for the perception tests (zones, posture, tracker, roles, observe).

* :func:`make_detections`: a ``FrameDetections`` factory for hand-written cases;
* :func:`asset_detections`: the real pose model run once on ultralytics' photos of people;
* :func:`demo_footage`: the synth demo branch's cameras (people cut out of those photos: a
  guard, a lobby manager, tellers and customers, with zones and truth), sampled every 2 s,
  with the pose model's detections of every sample.

Heavy results are cached per test session (``functools.cache``), so every test module can
call these without running the model again.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache

import cv2
import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from vision.config import CameraConfig, DetectorConfig
from vision.detector import PoseDetector
from vision.types import FrameDetections, Role, SampledFrame, box_iou

T0 = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
INTERVAL_S = 2.0
CAMERA = "lobby"


def make_detections(
    xyxy: list[list[float]] | npt.NDArray[np.float32],
    keypoints: npt.NDArray[np.float32] | None = None,
    *,
    frame_shape: tuple[int, int] = (480, 640),
    camera: str = CAMERA,
    ts: datetime = T0,
    frame_index: int = 0,
) -> FrameDetections:
    """Person detections with the given boxes (and keypoints, else none)."""
    boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
    n = len(boxes)
    return FrameDetections(
        xyxy=boxes,
        confidence=np.full(n, 0.9, np.float32),
        class_id=np.zeros(n, np.int32),
        track_id=np.full(n, -1, np.int64),
        keypoints=np.zeros((n, 0, 3), np.float32) if keypoints is None else keypoints,
        frame_shape=frame_shape,
        camera=camera,
        frame_index=frame_index,
        ts=ts,
    )


@cache
def pose_detector() -> PoseDetector:
    """The project's pose detector on the PyTorch backend (no export step in tests)."""
    return PoseDetector(DetectorConfig(backend="torch", batch=8))


def detect(
    images: list[npt.NDArray[np.uint8]], ts: list[datetime], camera: str = CAMERA
) -> list[FrameDetections]:
    """Run the real pose model (CPU) on BGR images."""
    frames = [SampledFrame(camera, when, i, image)
              for i, (image, when) in enumerate(zip(images, ts, strict=True))]  # fmt: skip
    return pose_detector().detect(frames)


def asset(name: str) -> npt.NDArray[np.uint8]:
    path = importlib.resources.files("ultralytics") / "assets" / name
    image = cv2.imread(str(path))
    assert image is not None, path
    return np.asarray(image, np.uint8)


@cache
def asset_detections(name: str) -> tuple[npt.NDArray[np.uint8], FrameDetections]:
    """An ultralytics asset photo and the pose model's people in it, left to right."""
    image = asset(name)
    dets = detect([image], [T0])[0]
    order = np.argsort(dets.xyxy[:, 0])
    return image, dets[order]


# --- generated footage ------------------------------------------------------------------------

DEMO_S = 80
"""Length of the generated demo footage: 40 samples per camera, 2 s apart."""

DEMO_SHAPE = (360, 640)


@dataclass(frozen=True)
class Footage:
    """Samples of one camera of the synth demo, with truth and the pose model's detections.

    Attributes:
        camera: The camera's configuration (zones) from the demo scenario.
        frames: Sampled frames, ``INTERVAL_S`` apart.
        detections: The pose model's detections of each frame.
        truth_xyxy: Per frame, ``(k, 4)`` pixel boxes of the scripted people drawn in it.
        truth_id: Per frame, ``(k,)`` index of each of those people in the script.
        truth_role: Scripted role of each person.
    """

    camera: CameraConfig
    frames: tuple[SampledFrame, ...]
    detections: tuple[FrameDetections, ...]
    truth_xyxy: tuple[npt.NDArray[np.float32], ...]
    truth_id: tuple[npt.NDArray[np.int64], ...]
    truth_role: dict[int, Role]


OUT_OF_UNIFORM_BGR = (200, 200, 205)
"""A light grey shirt: what a member of staff out of uniform wears in generated footage."""


@cache
def demo_footage(camera: str, out_of_uniform: str | None = None) -> Footage:
    """The synth demo branch (``vision.synth.demo``) shortened to 80 s at 640 x 360, sampled
    every 2 s: camera ``lobby`` has a guard at the post, a lobby manager who leaves the post
    and customers; camera ``counter`` has two tellers behind the counter and customers.
    ``out_of_uniform`` names an actor drawn in :data:`OUT_OF_UNIFORM_BGR` instead."""
    from vision.synth.demo import demo_scenario
    from vision.synth.frames import FrameRenderer
    from vision.synth.truth import actor_boxes

    h, w = DEMO_SHAPE
    scenario = demo_scenario(T0, duration_s=DEMO_S, width=w, height=h)
    demo = next(c for c in scenario.cameras if c.config.id == camera)
    script = demo.script
    if out_of_uniform is not None:
        assert out_of_uniform in {a.id for a in script.actors}, out_of_uniform
        actors = tuple(
            replace(a, uniform_bgr=OUT_OF_UNIFORM_BGR) if a.id == out_of_uniform else a
            for a in script.actors
        )
        script = replace(script, actors=actors)
    renderer = FrameRenderer(script)
    times = np.arange(0.0, DEMO_S, INTERVAL_S)
    frames = tuple(
        SampledFrame(camera, T0 + timedelta(seconds=float(t)), i,
                     np.array(renderer.frame(int(round(t * script.fps)))))
        for i, t in enumerate(times)
    )  # fmt: skip
    boxes = actor_boxes(script, times) * np.array([w, h, w, h], np.float32)  # (A, T, 4)
    shown = ~np.isnan(boxes[..., 0])
    return Footage(
        camera=demo.config,
        frames=frames,
        detections=tuple(detect([f.image for f in frames], [f.ts for f in frames], camera)),
        truth_xyxy=tuple(boxes[shown[:, i], i] for i in range(len(times))),
        truth_id=tuple(np.flatnonzero(shown[:, i]).astype(np.int64) for i in range(len(times))),
        truth_role={i: Role(a.role) for i, a in enumerate(script.actors)},
    )


def match_truth(
    pred_xyxy: npt.NDArray[np.float32], truth_xyxy: npt.NDArray[np.float32], min_iou: float = 0.4
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Pairs ``(pred index, truth index)`` matched by IoU (Hungarian, at least ``min_iou``)."""
    if len(pred_xyxy) == 0 or len(truth_xyxy) == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    iou = box_iou(pred_xyxy.astype(np.float64), truth_xyxy.astype(np.float64))
    rows, cols = linear_sum_assignment(-iou)
    ok = iou[rows, cols] >= min_iou
    return rows[ok], cols[ok]


def overlap_of_smaller(boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``(k, k)`` intersection of each pair of boxes over the smaller box (0 on the diagonal)."""
    lt = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    rb = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    out = inter / np.minimum(area[:, None], area[None, :])
    np.fill_diagonal(out, 0.0)
    return np.asarray(out)
