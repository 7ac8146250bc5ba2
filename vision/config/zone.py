"""Zones: typed polygons in normalised 0–1 image coordinates."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from vision.config.base import ID_PATTERN, StrictModel

Point = tuple[
    Annotated[float, Field(ge=0.0, le=1.0)],
    Annotated[float, Field(ge=0.0, le=1.0)],
]


class ZoneKind(StrEnum):
    """What a zone is for; rules select zones by kind."""

    CUSTOMER_VIEW = "customer_view"
    COUNTER_WINDOW = "counter_window"
    TELLER_SEAT = "teller_seat"
    LOBBY = "lobby"
    LOBBY_MANAGER_POST = "lobby_manager_post"
    GUARD_POST = "guard_post"
    SELF_SERVICE = "self_service"
    RESTRICTED = "restricted"
    IGNORE = "ignore"
    SCREEN = "screen"


class Anchor(StrEnum):
    """Point of a person's box that decides zone membership."""

    FEET = "feet"
    CENTER = "center"
    HEAD = "head"


class ZoneConfig(StrictModel):
    """One zone of a camera view."""

    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
        description="Zone id, unique within its camera.",
    )
    kind: ZoneKind = Field(description="What the zone is for.")
    polygon: list[Point] = Field(
        min_length=3,
        description="Polygon vertices as (x, y) in 0–1 image coordinates, in drawing order.",
    )
    window_id: str | None = Field(
        default=None,
        description="Counter window served by this zone; required for counter_window and "
        "teller_seat zones.",
    )
    anchor: Anchor = Field(
        default=Anchor.FEET,
        description="Point of a person's box tested against the polygon (feet for floor "
        "zones, center for seats seen from above).",
    )
    name: str = Field(default="", max_length=200, description="Human-readable name (中文 ok).")

    @field_validator("polygon")
    @classmethod
    def _polygon_has_area(cls, polygon: list[tuple[float, float]]) -> list[tuple[float, float]]:
        area = 0.0
        for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
            area += x0 * y1 - x1 * y0
        if abs(area) / 2 < 1e-6:
            raise ValueError("polygon has no area (its points are collinear or repeated)")
        return polygon

    @model_validator(mode="after")
    def _window_for_counter_zones(self) -> ZoneConfig:
        if self.kind in (ZoneKind.COUNTER_WINDOW, ZoneKind.TELLER_SEAT) and not self.window_id:
            raise ValueError(f"zone {self.id!r} of kind {self.kind.value} needs a window_id")
        return self
