"""Top-level configuration models: bank → branches → cameras → zones."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from api.config.evidence import EvidenceConfig
from rules.coverage import video_items
from rules.hours import BusinessHours
from rules.registry import RuleParams, RuleSettings, merge_rule_settings, validate_rule_settings
from rules.standard import DEFAULT_SCHEME
from vision.config import (
    CameraConfig,
    ClutterConfig,
    DetectorConfig,
    SamplingConfig,
    StrictModel,
)
from vision.config.base import ID_PATTERN

CONFIG_VERSION = 1


class BranchConfig(StrictModel):
    """One branch (网点) and its cameras."""

    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
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
    call_log: str | None = Field(
        default=None,
        max_length=1000,
        description="CSV export of the branch's queue machine (叫号机): a file, or a folder "
        "whose *.csv files are all read; layout in rules/calls.py. Without it "
        "RAISE_HAND_AFTER_CALL finds nothing.",
    )
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Rule settings of this branch, overriding the site's per parameter (e.g. "
        "its lunch rotation: {LOBBY_MANAGER_ABSENT: {exempt: [{start: '12:00', end: '13:00'}]}}).",
    )

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

    @property
    def capabilities(self) -> frozenset[str]:
        """What the branch's cameras have that rules need (:attr:`rules.registry.Rule.needs`):
        ``zone:<kind>`` for each zone kind drawn, ``uniforms`` if a uniform is calibrated."""
        kinds = {f"zone:{zone.kind.value}" for cam in self.cameras for zone in cam.zones}
        return frozenset(kinds | ({"uniforms"} if any(c.uniforms for c in self.cameras) else set()))

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
    scheme: str = Field(default=DEFAULT_SCHEME, description="Scoring scheme preset or file.")
    branches: list[BranchConfig] = Field(min_length=1, description="Branches.")

    def branch(self, branch_id: str) -> BranchConfig:
        for branch in self.branches:
            if branch.id == branch_id:
                return branch
        raise KeyError(f"unknown branch {branch_id!r}")

    def rule_layers(self, branch: BranchConfig, camera: CameraConfig) -> tuple[RuleSettings, ...]:
        """Rule settings of the site, the branch and the camera (later ones win)."""
        return (self.rules, branch.rules, camera.rules)

    def camera_rules(self, branch: BranchConfig, camera: CameraConfig) -> dict[str, RuleParams]:
        """The validated rule parameters that apply to one camera of a branch."""
        return validate_rule_settings(merge_rule_settings(*self.rule_layers(branch, camera)))

    def branch_video_items(self, branch: BranchConfig) -> frozenset[str]:
        """Items some camera of the branch checks on video (enabled there, and the branch has
        what the rule needs); the scheme's other items are 人工检查项 for this branch."""
        caps = branch.capabilities
        return frozenset().union(
            *(
                video_items(self.camera_rules(branch, cam), capabilities=caps)
                for cam in branch.cameras
            )
        )
