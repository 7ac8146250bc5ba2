"""How frames are sampled from exports and gated by motion."""

from pydantic import Field

from vision.config.base import StrictModel


class SamplingConfig(StrictModel):
    """Frame sampling and the motion gate."""

    interval_s: float = Field(
        default=2.0,
        gt=0.0,
        le=60.0,
        description="Seconds between sampled frames (inspection items need no more than 0.5 fps).",
    )
    motion_threshold: float = Field(
        default=0.004,
        ge=0.0,
        le=1.0,
        description="Mean absolute change of the grey thumbnail (0–1) below which a sample "
        "is 'unchanged' and the previous observation is held.",
    )
    max_hold_s: float = Field(
        default=30.0,
        ge=0.0,
        le=3600.0,
        description="Run inference at least this often even when nothing moves.",
    )
    threads: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Decoder threads per file (0: let FFmpeg choose).",
    )
