"""Top-level configuration models: bank → branches → cameras → zones."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from api.config.evidence import EvidenceConfig
from rules.hours import BusinessHours
from vision.config import (
    CameraConfig,
    ClutterConfig,
    DetectorConfig,
    SamplingConfig,
    StrictModel,
)

CONFIG_VERSION = 1


class BranchConfig(StrictModel):
    """One branch (网点) and its cameras."""

    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Branch id, unique within the bank.",
    )
    name: str = Field(min_length=1, max_length=200, description="Branch name, e.g. 城东支行.")
    timezone: str = Field(default="Asia/Shanghai", description="IANA time zone of the branch.")
    hours: BusinessHours = Field(default_factory=BusinessHours, description="Business hours.")
    folder: str | None = Field(
        default=None,
        max_length=200,
        description="Folder name of this branch's exports under a scanned path; defaults to id. "
        "With a single branch, files anywhere under the path belong to it.",
    )
    cameras: list[CameraConfig] = Field(min_length=1, description="Cameras of the branch.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def camera(self, camera_id: str) -> CameraConfig:
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam
        raise KeyError(f"branch {self.id!r} has no camera {camera_id!r}")


class SiteConfig(StrictModel):
    """The whole configuration file."""

    version: int = Field(default=CONFIG_VERSION, ge=1, description="Config file format version.")
    bank: str = Field(default="", max_length=200, description="Bank name shown on notices.")
    naming: list[str] = Field(
        default_factory=lambda: ["channel_range", "camera_start", "dahua"],
        description="Export file-name patterns tried in order: preset names or regular "
        "expressions with named groups (camera, start, optional end).",
    )
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    clutter: ClutterConfig = Field(
        default_factory=ClutterConfig, description="Clutter and left-object checks."
    )
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per inspection item: {enabled: bool, ...parameters}; items not listed "
        "run with their defaults.",
    )
    evidence: EvidenceConfig = Field(
        default_factory=EvidenceConfig, description="Evidence stills and clips of events."
    )
    scheme: str = Field(default="psbc", description="Scoring scheme preset or file.")
    branches: list[BranchConfig] = Field(min_length=1, description="Branches.")

    def branch(self, branch_id: str) -> BranchConfig:
        for branch in self.branches:
            if branch.id == branch_id:
                return branch
        raise KeyError(f"unknown branch {branch_id!r}")
