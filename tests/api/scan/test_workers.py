"""A worker runs the static-object layer with the object detector the configuration names.

No COCO object detector can be had offline, so a stand-in takes the place of
:class:`vision.detector.ObjectDetector`: it names whatever lies at the centre of a crop a cup.
The scan's own wiring (weights named in ``detector.object_model``, class names, crops of the
layer) is real, on the generated lobby footage where a cup stands on the form desk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import vision.backends.runtimes
import vision.detector
from api.demo import DEMO_START
from api.scan.worker import BrokenWorker, Outcome, UnitJob, WorkerState, load_worker
from tests.api.scan.conftest import CORRUPT_NAME, Footage
from vision.config import Backend, ClutterConfig, DetectorConfig, Precision
from vision.config.clutter import COCO_NAMES
from vision.timeline import UNKNOWN_LABEL, ObservationTimeline
from vision.types import FrameDetections, SampledFrame, box_iou

CUP_BOX = np.array([[0.64, 0.52, 0.72, 0.635]])


class CupDetector:
    """Stand-in object detector: a cup box over the middle of every crop, confidence 0.8."""

    built: list[str | None] = []

    def __init__(self, config: DetectorConfig, *args: Any, **kwargs: Any) -> None:
        CupDetector.built.append(config.object_model)
        self.weights = SimpleNamespace(class_names=COCO_NAMES)

    def detect(self, frames: Sequence[SampledFrame]) -> list[FrameDetections]:
        out = []
        for f in frames:
            h, w = f.image.shape[:2]
            out.append(
                FrameDetections(
                    xyxy=np.array([[w / 4, h / 4, 3 * w / 4, 3 * h / 4]], np.float32),
                    confidence=np.array([0.8], np.float32),
                    class_id=np.array([COCO_NAMES.index("cup")], np.int32),
                    track_id=np.array([-1], np.int64),
                    keypoints=np.zeros((1, 0, 3), np.float32),
                    frame_shape=(h, w),
                    camera=f.camera,
                    frame_index=f.index,
                    ts=f.ts,
                )
            )
        return out


@pytest.mark.parametrize(
    ("object_model", "label", "confidence"), [("coco-stub", "cup", 0.8), (None, UNKNOWN_LABEL, 0.0)]
)
def test_worker_labels_static_objects_with_the_configured_detector(
    footage: Footage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    object_model: str | None,
    label: str,
    confidence: float,
) -> None:
    monkeypatch.setattr(vision.detector, "ObjectDetector", CupDetector)
    CupDetector.built.clear()
    site = footage.site.model_copy(
        update={
            "detector": footage.site.detector.model_copy(update={"object_model": object_model}),
            "clutter": ClutterConfig(persistence_s=8.0, bootstrap_samples=3),
        }
    )
    state = WorkerState(site, threads=1)
    assert CupDetector.built == ([object_model] if object_model else [])

    first = min(p for p in footage.folder.glob("ch01_*.mp4") if p.name != CORRUPT_NAME)
    result = state.analyse(UnitJob(1, str(first), "demo", "lobby", DEMO_START))
    assert result.outcome is Outcome.OK, result.reason
    path = tmp_path / "timeline.npz"
    path.write_bytes(result.timeline)
    objects = ObservationTimeline.load(path).objects

    assert len(objects) == 1
    assert box_iou(objects.xyxy, CUP_BOX)[0, 0] >= 0.5
    assert objects.label.tolist() == [label]
    assert objects.confidence[0] == pytest.approx(confidence)


def test_a_worker_that_cannot_load_its_model_fails_each_unit_with_the_reason(
    footage: Footage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bf16 asked for on a CPU without bf16 (simulated): units fail naming why, not as a dead
    worker process."""
    monkeypatch.setattr(vision.backends.runtimes, "cpu_capabilities", lambda: ["FP32", "INT8"])
    detector = DetectorConfig(backend=Backend.OPENVINO, precision=Precision.BF16)
    worker = load_worker(footage.site.model_copy(update={"detector": detector}), threads=1)
    assert isinstance(worker, BrokenWorker)
    first = min(footage.folder.glob("ch01_*.mp4"))
    result = worker.analyse(UnitJob(7, str(first), "demo", "lobby", DEMO_START))
    assert (result.unit_id, result.outcome) == (7, Outcome.ERROR)
    assert result.reason.startswith("worker setup failed: PrecisionError: precision bf16 needs")
    assert "FP32, INT8" in result.reason
