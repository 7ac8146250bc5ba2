"""A camera of a branch and the zones drawn on its view."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from vision.config.base import ID_PATTERN, StrictModel
from vision.config.zone import ZoneConfig


class UniformSignature(StrictModel):
    """Torso colour signature of a staff role, stored by ``branchwatch calibrate``."""

    role: str = Field(pattern=r"^(teller|lobby_manager|guard)$", description="Staff role.")
    hist: list[float] = Field(
        min_length=1, max_length=4096, description="Normalised HSV histogram of the torso region."
    )


class CameraConfig(StrictModel):
    """One camera: which export files are its own and what it looks at."""

    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
        description="Camera id, unique within the branch.",
    )
    name: str = Field(default="", max_length=200, description="Human-readable name (中文 ok).")
    channel: str | None = Field(
        default=None,
        max_length=64,
        description="Camera token in export file names (e.g. '01' for ch01_…); defaults to id.",
    )
    looks_at: str = Field(default="", max_length=500, description="What the camera sees.")
    zones: list[ZoneConfig] = Field(default_factory=list, description="Zones of this view.")
    uniforms: list[UniformSignature] = Field(
        default_factory=list, description="Uniform signatures seen by this camera."
    )
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Rule settings of this camera, overriding its branch's and the site's per "
        "parameter (e.g. {LOBBY_MANAGER_ABSENT: {enabled: false}} for a staff-only corridor).",
    )

    @property
    def token(self) -> str:
        """Token that export file names carry for this camera."""
        return self.channel if self.channel is not None else self.id

    @model_validator(mode="after")
    def _unique_zone_ids(self) -> CameraConfig:
        seen: set[str] = set()
        for zone in self.zones:
            if zone.id in seen:
                raise ValueError(f"camera {self.id!r}: zone id {zone.id!r} is used twice")
            seen.add(zone.id)
        return self
