"""PyTorch backend: ultralytics' own predictor, converted once by ``FrameDetections``.

This is the reference the torch-free backends are checked against. Importing this module is
cheap; torch and ultralytics are imported when a :class:`TorchRunner` is created.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from vision.backends.yolo_io import MAX_DETECTIONS, NMS_IOU
from vision.types import FrameDetections, SampledFrame

logger = logging.getLogger(__name__)


class DeviceError(RuntimeError):
    """The configured device is not available to this process."""


class TorchRunner:
    """Runs a ``.pt`` weight through ``ultralytics.YOLO.predict`` on the CPU or a CUDA GPU.

    Args:
        weights: Verified ``.pt`` file.
        threads: Intra-op threads for torch (its CPU work).
        imgsz: Inference size (longest side).
        conf: Minimum score.
        classes: Class ids to report; all when ``None``.
        device: ``cpu``, ``cuda`` or ``cuda:N``.

    Raises:
        DeviceError: a CUDA device is asked for and this process sees none (or fewer).
    """

    def __init__(
        self,
        weights: Path,
        threads: int,
        imgsz: int,
        conf: float,
        classes: Sequence[int] | None,
        device: str = "cpu",
    ) -> None:
        self._imgsz, self._conf = imgsz, conf
        self._classes = None if classes is None else list(classes)
        # Never let ultralytics download or pip-install anything at run time.
        os.environ.setdefault("YOLO_OFFLINE", "1")
        os.environ.setdefault("YOLO_AUTOINSTALL", "False")
        import torch
        from ultralytics.models import YOLO

        if device != "cpu":
            index = int(device.partition(":")[2] or 0)
            seen = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if index >= seen:
                raise DeviceError(
                    f"device {device} is not available: this process sees {seen} CUDA "
                    f"device(s) (CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r})"
                )
            device = f"cuda:{index}"
        self._device = device
        torch.set_num_threads(threads)
        self._model = YOLO(str(weights))
        logger.info("PyTorch model %s on %s with %d threads", weights, device, threads)

    def __call__(self, frames: Sequence[SampledFrame]) -> list[FrameDetections]:
        """Detections of each frame, predicted as one batch."""
        results = self._model.predict(
            [f.image for f in frames],
            imgsz=self._imgsz,
            conf=self._conf,
            iou=NMS_IOU,
            max_det=MAX_DETECTIONS,
            classes=self._classes,
            device=self._device,
            verbose=False,
        )
        return [
            FrameDetections.from_ultralytics(r, f.camera, f.index, f.ts)
            for r, f in zip(results, frames, strict=True)
        ]
