"""The label file of an evaluation set: items (clips and stills), their zones and what a
person saw in them. Loaded from YAML with errors that name the line (see ``docs/eval.md``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, model_validator

from api.config.loader import ConfigError, _format_validation, read_yaml
from vision.config import ZoneConfig
from vision.config.base import StrictModel
from vision.config.zone import Point

LABELS_VERSION = 1

Seconds = Annotated[float, Field(ge=0.0)]
Interval = tuple[Seconds, Seconds]


class LabelError(ValueError):
    """The label file cannot be used; the message names the file, line and field."""


class ItemKind(StrEnum):
    """A clip is scored at every sample; a still is one frame at time 0."""

    CLIP = "clip"
    STILL = "still"


class PostureLabel(StrEnum):
    """Body posture as the labeller saw it."""

    STANDING = "standing"
    SEATED = "seated"


class Tolerance(StrictModel):
    """How far the pipeline may be off and still count as right."""

    boundary_s: float = Field(
        default=2.0,
        gt=0.0,
        description="An event matches a labelled one when its start and its end each lie "
        "within this many seconds of the label's.",
    )


class Source(StrictModel):
    """Where the media of some items came from."""

    repo: str = Field(min_length=1, description="Repository or site the files were taken from.")
    commit: str = Field(min_length=1, description="Commit or version of the source.")
    licence: str = Field(min_length=1, description="Licence of the media (SPDX id).")
    attribution: str = Field(default="", description="Attribution the licence asks for.")


class PersonLabel(StrictModel):
    """One person over a stretch of an item, located by a point on their body."""

    during: Interval = Field(description="[start, end] seconds of the item in which it holds.")
    at: Point = Field(description="(x, y) in 0-1 image coordinates on the person's torso.")
    posture: PostureLabel | None = Field(default=None, description="standing or seated.")
    slumped: bool | None = Field(default=None, description="Head dropped / slumped.")
    phone: bool | None = Field(default=None, description="Using a phone (at the ear or looked at).")

    @model_validator(mode="after")
    def _ordered(self) -> PersonLabel:
        if self.during[1] < self.during[0]:
            raise ValueError(f"during {list(self.during)} ends before it starts")
        return self


class Item(StrictModel):
    """One labelled clip or still."""

    id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="Item id."
    )
    kind: ItemKind
    file: str = Field(min_length=1, description="Media file, relative to the label file.")
    source: str = Field(description="Key into the set's sources.")
    source_path: str = Field(default="", description="File in the source it was taken from.")
    cut: Interval | None = Field(
        default=None, description="[start, end] of the cut in the source file's time."
    )
    visible: str = Field(default="", description="What is visible, in words.")
    zones: list[ZoneConfig] = Field(default_factory=list, description="Zones drawn on the view.")
    presence: dict[str, list[Interval]] = Field(
        default_factory=dict,
        description="Per zone id: [start, end] seconds in which someone is in the zone.",
    )
    counts: list[tuple[Seconds, Seconds, Annotated[int, Field(ge=0)]]] = Field(
        default_factory=list,
        description="[start, end, n]: n people are visible throughout [start, end]; samples "
        "outside every span are not scored.",
    )
    people: list[PersonLabel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        zone_ids = {z.id for z in self.zones}
        if len(zone_ids) != len(self.zones):
            raise ValueError("zone ids must be unique within an item")
        for zone, intervals in self.presence.items():
            if zone not in zone_ids:
                raise ValueError(f"presence names zone {zone!r}, which the item does not draw")
            for start, end in intervals:
                if end < start:
                    raise ValueError(f"presence [{start}, {end}] in {zone!r} ends before it starts")
        for start, end, _ in self.counts:
            if end < start:
                raise ValueError(f"count span [{start}, {end}] ends before it starts")
        return self


class LabelSet(StrictModel):
    """A whole label file."""

    version: int = Field(default=LABELS_VERSION, ge=1, le=LABELS_VERSION)
    name: str = Field(min_length=1, description="Name of the set, reported with its figures.")
    tolerance: Tolerance = Field(default_factory=Tolerance)
    sources: dict[str, Source] = Field(default_factory=dict)
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> LabelSet:
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"item id {item.id!r} is used twice")
            seen.add(item.id)
            if item.source not in self.sources:
                raise ValueError(f"item {item.id!r} names source {item.source!r}, not in sources")
        return self


def parse_labels(text: str, source: str = "<labels>") -> LabelSet:
    """Parse and validate a label document.

    Raises:
        LabelError: one line per problem, naming file, line and field.
    """
    try:
        root, raw = read_yaml(text, source, "'items'")
    except ConfigError as exc:
        raise LabelError(str(exc)) from exc
    try:
        return LabelSet.model_validate(raw)
    except ValidationError as exc:
        raise LabelError(_format_validation(source, root, raw, exc)) from exc


def load_labels(path: Path) -> LabelSet:
    """Load a label file; every item's media file must exist next to it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LabelError(f"{path}: cannot read the label file: {exc.strerror}") from exc
    labels = parse_labels(text, str(path))
    missing = [i.file for i in labels.items if not (path.parent / i.file).is_file()]
    if missing:
        raise LabelError(f"{path}: media file(s) not found next to it: {', '.join(missing)}")
    return labels
