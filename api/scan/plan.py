"""Which files a scan analyses, and under which pipeline version.

Discovery finds the export files of the configured cameras; each becomes a
:class:`api.scan.units.PlannedFile` keyed by its content hash and the pipeline version of its
camera, so a file is analysed again only when its content or what shapes its observations
changes.
"""

from __future__ import annotations

import hashlib

from api.config import SiteConfig
from api.scan.units import PlannedFile
from vision.config import CameraConfig, ClutterConfig, DetectorConfig, Precision, SamplingConfig
from vision.digest import file_sha256
from vision.discovery import CameraRef, Discovery

PIPELINE_FORMAT = "2"
"""Bumped when the observations a file yields change (2: screen measures, uniform distances)."""


def pipeline_version(
    detector: DetectorConfig, sampling: SamplingConfig, clutter: ClutterConfig
) -> str:
    """Identifies everything that changes observations; a file is re-analysed when it changes."""
    raw = "|".join(
        [
            PIPELINE_FORMAT,
            detector.model,
            detector.object_model or "",
            clutter.model_dump_json(),
            detector.backend.value,
            detector.precision.value,
            detector.device,
            str(detector.imgsz),
            f"{detector.confidence:.3f}",
            f"{sampling.interval_s:.3f}",
            f"{sampling.motion_threshold:.5f}",
            f"{sampling.max_hold_s:.1f}",
        ]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def camera_version(run_version: str, branch: str, camera: CameraConfig) -> str:
    """The pipeline version of one camera's files: the run's version with what the camera's
    configuration adds to observations (its zones and uniform signatures), so redrawing a zone
    or calibrating a uniform re-analyses that camera's files and no other's."""
    raw = "|".join(
        [run_version, branch, camera.id, camera.model_dump_json(include={"zones", "uniforms"})]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def camera_versions(site: SiteConfig) -> dict[tuple[str, str], str]:
    """The pipeline version of every configured camera, by ``(branch, camera)``."""
    version = pipeline_version(site.detector, site.sampling, site.clutter)
    return {
        (b.id, c.id): camera_version(version, b.id, c) for b in site.branches for c in b.cameras
    }


def detector_label(detector: DetectorConfig) -> str:
    """Short name of the model setting stored with each event, e.g. ``yolo11n-pose@640/onnx``."""
    label = f"{detector.model}@{detector.imgsz}/{detector.backend.value}"
    if detector.precision is not Precision.F32:
        label += f"-{detector.precision.value}"
    return label if detector.device == "cpu" else f"{label}@{detector.device}"


def camera_refs(site: SiteConfig) -> list[CameraRef]:
    """The configured cameras as discovery matches them to export file names."""
    single = len(site.branches) == 1
    return [
        CameraRef(
            branch=b.id,
            camera=c.id,
            token=c.token,
            folder=None if single else (b.folder or b.id),
            tz=b.tz,
        )
        for b in site.branches
        for c in b.cameras
    ]


def planned_files(found: Discovery, versions: dict[tuple[str, str], str]) -> list[PlannedFile]:
    """One planned unit per discovered file, with its content hash and its camera's version."""
    return [
        PlannedFile(
            path=str(f.path),
            sha256=file_sha256(f.path),
            size=f.path.stat().st_size,
            branch=f.branch,
            camera=f.camera,
            start=f.start,
            end=f.end,
            version=versions[(f.branch, f.camera)],
        )
        for f in found.files
    ]
