"""Person/pose and object detectors over YOLO weights, on PyTorch, ONNX Runtime or OpenVINO.

:class:`PoseDetector` runs the pose weight named by ``DetectorConfig.model`` (people with 17
keypoints); :class:`ObjectDetector` runs an optional COCO detector (``DetectorConfig.object_model``)
with a class filter. Both take batches of :class:`SampledFrame` and return one
:class:`FrameDetections` per frame. With the ``onnx`` and ``openvino`` backends nothing imports
torch: the model is exported once (in a child process) and pre/post-processing is numpy + OpenCV.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from vision.backends.export import ExportFormat, exported_model
from vision.backends.runtimes import OnnxRunner, OpenVinoRunner, Runner, default_threads
from vision.backends.torch_runner import TorchRunner
from vision.backends.yolo_io import HeadLayout, decode, letterbox
from vision.config.detector import Backend, DetectorConfig
from vision.types import FrameDetections, SampledFrame
from vision.weights import ResolvedWeights, Task, locate_weights

logger = logging.getLogger(__name__)


class DetectorError(ValueError):
    """A detector was configured with a weight or classes that do not fit it."""


RUNTIME_EXTRAS = {
    ExportFormat.ONNX: ("onnxruntime", None),
    ExportFormat.OPENVINO: ("openvino", "openvino"),
}
"""Package each exported backend runs on, and the branchwatch extra that installs it (``None``:
part of the default install)."""


def require_runtime(fmt: ExportFormat) -> None:
    """Fail with what to install when the runtime of backend ``fmt`` is missing.

    Raises:
        DetectorError: The runtime package is not installed.
    """
    package, extra = RUNTIME_EXTRAS[fmt]
    if importlib.util.find_spec(package) is not None:
        return
    how = f"pip install 'branchwatch[{extra}]'" if extra else "reinstall branchwatch"
    raise DetectorError(
        f"detector.backend {fmt.value} needs {package}, which is not installed: {how}, "
        "or set detector.backend: onnx"
    )


class _FrameInference(Protocol):
    """One backend from frames to detections."""

    def __call__(self, frames: Sequence[SampledFrame]) -> list[FrameDetections]: ...


@dataclass(frozen=True)
class _RawYolo:
    """Torch-free pipeline: letterbox, raw-tensor runner, numpy decode."""

    runner: Runner
    layout: HeadLayout
    imgsz: int
    conf: float
    keep: npt.NDArray[np.bool_] | None

    def __call__(self, frames: Sequence[SampledFrame]) -> list[FrameDetections]:
        batch = letterbox([f.image for f in frames], self.imgsz)
        raw = self.runner(batch.tensor)
        return decode(raw, self.layout, batch, frames, self.conf, self.keep)


class _YoloDetector:
    """Shared machinery: weights, backend, batching. Holds no per-camera state."""

    def __init__(
        self,
        config: DetectorConfig,
        weight: str,
        task: Task,
        *,
        threads: int | None,
        classes: Sequence[str] | None,
        overlay: Path | None,
    ) -> None:
        self.config = config
        self.weights: ResolvedWeights = locate_weights(weight, config.models_dir, overlay=overlay)
        entry = self.weights.entry
        if entry.task is not task:
            raise DetectorError(
                f"weight {weight!r} is a {entry.task.value} model; this "
                f"detector needs a {task.value} model"
            )
        names = self.weights.class_names
        self.layout = HeadLayout(num_classes=len(names), num_keypoints=entry.keypoints)
        self.class_ids: tuple[int, ...] | None = None
        self._keep: npt.NDArray[np.bool_] | None = None
        if classes is not None:
            unknown = sorted(set(classes) - set(names))
            if unknown:
                raise DetectorError(
                    f"weight {weight!r} has no classes {unknown}; it knows: {', '.join(names)}"
                )
            self.class_ids = tuple(sorted(names.index(c) for c in set(classes)))
            self._keep = np.isin(np.arange(len(names)), self.class_ids)
        self.threads = threads if threads is not None else default_threads()
        self._infer: _FrameInference
        if config.backend is Backend.TORCH:
            self._infer = TorchRunner(
                self.weights.path,
                self.threads,
                config.imgsz,
                config.confidence,
                self.class_ids,
                config.device,
            )
        else:
            fmt = ExportFormat(config.backend.value)
            require_runtime(fmt)
            model = exported_model(self.weights, fmt)
            runner: Runner = (
                OnnxRunner(model, self.threads)
                if fmt is ExportFormat.ONNX
                else OpenVinoRunner(model, self.threads, config.precision)
            )
            self._infer = _RawYolo(runner, self.layout, config.imgsz, config.confidence, self._keep)

    def detect(self, frames: Sequence[SampledFrame]) -> list[FrameDetections]:
        """Detections of each frame, in order, inferred in batches of ``config.batch`` frames.

        Args:
            frames: Sampled frames of any sizes; frames of equal size are inferred together.

        Returns:
            One :class:`FrameDetections` per frame, coordinates in that frame's pixels.
        """
        out: list[FrameDetections] = []
        step = self.config.batch
        for start in range(0, len(frames), step):
            out.extend(self._detect_batch(frames[start : start + step]))
        return out

    def _detect_batch(self, frames: Sequence[SampledFrame]) -> list[FrameDetections]:
        """Infer frames of equal size together, so each frame's result does not depend on
        the sizes of the other frames in its batch."""
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, frame in enumerate(frames):
            groups.setdefault(frame.image.shape, []).append(i)
        if len(groups) == 1:
            return self._infer(frames)
        out: dict[int, FrameDetections] = {}
        for members in groups.values():
            found = self._infer([frames[i] for i in members])
            out.update(zip(members, found, strict=True))
        return [out[i] for i in range(len(frames))]


class PoseDetector(_YoloDetector):
    """People with 17 COCO keypoints from the pose weight ``config.model``.

    Args:
        config: Detector settings (weight, backend, imgsz, confidence, batch, models_dir).
        threads: Intra-op threads; default: available CPUs minus one (one spare for decoding).
        overlay: Manifest overlay file (see :func:`vision.weights.locate_weights`).

    Raises:
        WeightsError: The weight cannot be found or verified.
        DetectorError: The weight is not a pose model.
        ExportError: The one-time ONNX/OpenVINO export failed.
        PrecisionError: ``precision: bf16`` on a CPU without bf16 instructions.
        DeviceError: ``device: cuda…`` where this process sees no such GPU.

    Example:
        >>> from vision.config import DetectorConfig
        >>> detector = PoseDetector(DetectorConfig(backend="onnx", batch=8))  # doctest: +SKIP
        >>> detections = detector.detect(frames)  # doctest: +SKIP
    """

    def __init__(
        self, config: DetectorConfig, *, threads: int | None = None, overlay: Path | None = None
    ) -> None:
        super().__init__(
            config, config.model, Task.POSE, threads=threads, classes=None, overlay=overlay
        )


class ObjectDetector(_YoloDetector):
    """COCO objects (cups, bags, phones...) from the detect weight ``config.object_model``.

    Keypoints of its detections have shape ``(n, 0, 3)``.

    Args:
        config: Detector settings; ``config.object_model`` names the weight.
        classes: Class names to report (e.g. ``["cup", "cell phone"]``); all when ``None``.
        threads: Intra-op threads; default: available CPUs minus one (one spare for decoding).
        overlay: Manifest overlay file, e.g. one pinning the weight's sha256.

    Raises:
        DetectorError: No ``object_model`` is configured, it is not a detect model, or a class
            name is unknown.
        WeightsError: The weight cannot be found or verified.
        ExportError: The one-time ONNX/OpenVINO export failed.
        PrecisionError: ``precision: bf16`` on a CPU without bf16 instructions.
        DeviceError: ``device: cuda…`` where this process sees no such GPU.
    """

    def __init__(
        self,
        config: DetectorConfig,
        classes: Sequence[str] | None = None,
        *,
        threads: int | None = None,
        overlay: Path | None = None,
    ) -> None:
        if config.object_model is None:
            raise DetectorError("DetectorConfig.object_model is not set; no object detector")
        super().__init__(
            config,
            config.object_model,
            Task.DETECT,
            threads=threads,
            classes=classes,
            overlay=overlay,
        )
