"""Clutter and left objects: the clean-scene reference and the static-object layer."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from vision.config.base import StrictModel
from vision.timeline import UNKNOWN_LABEL

COCO_NAMES = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)
"""The 80 COCO class names by class id (the order of ultralytics' ``coco.yaml``)."""

CLUTTER_LABELS = (
    "backpack",
    "umbrella",
    "handbag",
    "suitcase",
    "bottle",
    "wine glass",
    "cup",
    "bowl",
    "banana",
    "apple",
    "orange",
    "sandwich",
    "laptop",
    "cell phone",
    "book",
    "scissors",
    "teddy bear",
)
"""COCO classes that count as clutter when an object detector labels a static object."""


class ClutterConfig(StrictModel):
    """How objects left in the customer's view are found.

    The reference policy: a still marked clean with ``branchwatch reference set`` is used when
    one is stored for the camera; otherwise the reference is the per-pixel median of the first
    ``bootstrap_samples`` samples of each file with people masked out. While a file is analysed
    the reference follows slow light changes (``blend_rate`` on pixels that match it) and takes
    in regions where something of the reference was removed (a "ghost"); the stored still
    itself never changes.
    """

    enabled: bool = Field(default=True, description="Run the static-object layer.")
    work_width: int = Field(
        default=320,
        ge=96,
        le=1280,
        description="Width in pixels of the grey image the layer compares (height keeps the "
        "frame's aspect).",
    )
    persistence_s: float = Field(
        default=60.0,
        gt=0.0,
        le=86400.0,
        description="Seconds a region must differ from the reference and stay put before it "
        "is a static object.",
    )
    gap_samples: int = Field(
        default=2,
        ge=0,
        le=20,
        description="Samples in a row a changed pixel or object may go unseen (noise, "
        "occlusion missed by the detector) before it counts as gone.",
    )
    min_visible: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Fraction of the time a new region has differed in which it must have been "
        "seen with no person in front of it (keeps a customer who lingers, missed by the "
        "person detector now and then, from becoming an object).",
    )
    diff_threshold: float = Field(
        default=0.1,
        gt=0.0,
        le=1.0,
        description="Brightness change (0–1 of the grey range, after local light "
        "compensation) that marks a pixel as changed.",
    )
    structure_threshold: float = Field(
        default=0.6,
        gt=0.0,
        le=2.0,
        description="Structure change (1 − local normalised cross-correlation) that marks a "
        "textured pixel as changed.",
    )
    min_texture: float = Field(
        default=0.015,
        ge=0.0,
        le=0.5,
        description="Local grey standard deviation (0–1) below which a window is flat and its "
        "structure is not compared.",
    )
    window: int = Field(
        default=7,
        ge=3,
        le=31,
        description="Side in work pixels of the window of the structure comparison (odd).",
    )
    light_cells: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Cells across the width of the grid on which the light gain between frame "
        "and reference is estimated (robust median per cell).",
    )
    min_area: float = Field(
        default=0.0005,
        gt=0.0,
        le=0.5,
        description="Smallest object box as a fraction of the frame area.",
    )
    max_area: float = Field(
        default=0.08,
        gt=0.0,
        le=1.0,
        description="Largest object box as a fraction of the frame area (bigger changes are "
        "furniture moves or light, not clutter).",
    )
    max_side: float = Field(
        default=0.4,
        gt=0.0,
        le=1.0,
        description="Largest object box side as a fraction of the frame side.",
    )
    merge_gap: float = Field(
        default=0.03,
        ge=0.0,
        le=0.2,
        description="Changed parts closer than this fraction of the frame width are one "
        "object (parts of an outline that matches the background are not seen as changed).",
    )
    min_zone_overlap: float = Field(
        default=0.5,
        gt=0.0,
        le=1.0,
        description="Fraction of an object's changed pixels that must lie in customer_view or "
        "self_service zones.",
    )
    person_pad: float = Field(
        default=0.15,
        ge=0.0,
        le=1.0,
        description="Person boxes are widened by this fraction of their size on each side "
        "before they are masked out.",
    )
    match_iou: float = Field(
        default=0.3,
        gt=0.0,
        le=1.0,
        description="Box overlap from which a region continues a tracked object.",
    )
    bootstrap_samples: int = Field(
        default=15,
        ge=1,
        le=600,
        description="Samples whose masked median becomes the reference when no clean still "
        "is stored for the camera.",
    )
    blend_rate: float = Field(
        default=0.02,
        ge=0.0,
        le=0.5,
        description="Per-sample weight with which unchanged, unoccluded reference pixels "
        "follow the current frame (slow light drift).",
    )
    ghost_ratio: float = Field(
        default=1.5,
        ge=1.0,
        le=10.0,
        description="A region whose outline is this many times stronger in the reference than "
        "in the frame is something removed from the reference: it is taken into the reference "
        "and not reported.",
    )
    crop_pad: float = Field(
        default=0.5,
        ge=0.0,
        le=3.0,
        description="Crops around objects are widened by this fraction of the box on each "
        "side (context for the object detector and for reviewers).",
    )
    labels: list[str] = Field(
        default_factory=lambda: list(CLUTTER_LABELS),
        max_length=80,
        description="COCO class names an object detector may give a static object.",
    )
    label_confidence: float = Field(
        default=0.25, gt=0.0, lt=1.0, description="Minimum object-detector confidence."
    )
    label_attempts: int = Field(
        default=3,
        ge=1,
        le=50,
        description="Samples on which the object detector is tried on a new object before it "
        "stays 'unknown object'.",
    )
    zone_labels: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per zone id or zone kind: the labels reported there (include "
        "'unknown object' to keep unlabelled objects); zones not listed report every label.",
    )

    @field_validator("window")
    @classmethod
    def _odd_window(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"window must be odd, got {value}")
        return value

    @field_validator("labels")
    @classmethod
    def _coco_labels(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(COCO_NAMES))
        if unknown:
            raise ValueError(f"labels {unknown} are not COCO class names")
        return value

    @field_validator("zone_labels")
    @classmethod
    def _zone_label_names(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        allowed = set(COCO_NAMES) | {UNKNOWN_LABEL}
        for zone, names in value.items():
            unknown = sorted(set(names) - allowed)
            if unknown:
                raise ValueError(
                    f"zone_labels[{zone!r}]: {unknown} are neither COCO class names nor "
                    f"{UNKNOWN_LABEL!r}"
                )
        return value

    @model_validator(mode="after")
    def _sizes_ordered(self) -> ClutterConfig:
        if self.min_area >= self.max_area:
            raise ValueError(
                f"min_area ({self.min_area}) must be smaller than max_area ({self.max_area})"
            )
        return self
