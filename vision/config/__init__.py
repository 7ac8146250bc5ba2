"""Configuration sections that the vision stages read (pure data, no runtime state)."""

from vision.config.base import StrictModel
from vision.config.camera import CameraConfig
from vision.config.clutter import ClutterConfig
from vision.config.detector import Backend, DetectorConfig, Precision
from vision.config.sampling import SamplingConfig
from vision.config.zone import ZoneConfig, ZoneKind

__all__ = [
    "Backend",
    "CameraConfig",
    "ClutterConfig",
    "DetectorConfig",
    "Precision",
    "SamplingConfig",
    "StrictModel",
    "ZoneConfig",
    "ZoneKind",
]
