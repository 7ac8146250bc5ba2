"""Which model runs and how."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from vision.config.base import StrictModel


class Backend(StrEnum):
    """Inference runtime."""

    TORCH = "torch"
    ONNX = "onnx"
    OPENVINO = "openvino"


class Precision(StrEnum):
    """Arithmetic the network runs in."""

    F32 = "f32"
    BF16 = "bf16"


class DetectorConfig(StrictModel):
    """Person/pose detector and the optional object detector."""

    model: str = Field(default="yolo11n-pose", description="Weight name in models/manifest.yaml.")
    backend: Backend = Field(default=Backend.ONNX, description="Inference runtime.")
    precision: Precision = Field(
        default=Precision.F32,
        description="Network arithmetic. f32 gives the same detections on every machine; bf16 "
        "(openvino backend, CPUs with AMX or AVX512_BF16 only) runs about twice as fast there, "
        "with the same people found and keypoints within a few pixels.",
    )
    device: str = Field(
        default="cpu",
        pattern=r"^(cpu|cuda(:[0-9]+)?)$",
        description="Where the torch backend runs: cpu, cuda (the first GPU this process may "
        "use; under Ray, the actor's) or cuda:N. onnx and openvino run on the CPU.",
    )
    imgsz: int = Field(
        default=640,
        ge=160,
        le=1920,
        multiple_of=32,
        description="Inference size (longest side, pixels).",
    )
    confidence: float = Field(
        default=0.35, gt=0.0, lt=1.0, description="Minimum person confidence."
    )
    batch: int = Field(default=8, ge=1, le=64, description="Frames per inference batch.")
    object_model: str | None = Field(
        default=None,
        description="Optional COCO object detector weight name in the manifest (cup, bag, "
        "phone…); without one, clutter is found by change against the clean reference only.",
    )
    models_dir: str | None = Field(
        default=None, description="Local folder searched first for weight files."
    )

    @model_validator(mode="after")
    def _settings_fit_backend(self) -> DetectorConfig:
        if self.precision is Precision.BF16 and self.backend is not Backend.OPENVINO:
            raise ValueError(
                f"precision bf16 runs on the openvino backend only, not on {self.backend.value}"
            )
        if self.device != "cpu" and self.backend is not Backend.TORCH:
            raise ValueError(
                f"device {self.device} runs the torch backend only; {self.backend.value} runs "
                "on the CPU"
            )
        return self
