"""How the scan makes the evidence of each event: the still and the clip."""

from __future__ import annotations

from pydantic import Field, model_validator

from vision.config.base import StrictModel


class EvidenceConfig(StrictModel):
    """Evidence clips: context around the event, how long ones are shown, size and privacy.

    A clip shows ``before_s`` of context, the event, and ``after_s`` after it, in real time when
    that fits in ``max_clip_s``; a longer event is shown whole but sped up so the clip still
    plays in ``max_clip_s`` (the context stays in real time).
    """

    clips: bool = Field(default=True, description="Cut an evidence clip for every new event.")
    before_s: float = Field(default=5.0, ge=0.0, le=120.0, description="Context before, s.")
    after_s: float = Field(default=5.0, ge=0.0, le=120.0, description="Context after, s.")
    max_clip_s: float = Field(
        default=28.0,
        ge=5.0,
        le=300.0,
        description="Longest playing time of a clip; longer events are sped up to fit.",
    )
    fast_fps: float = Field(
        default=6.0, gt=0.0, le=30.0, description="Frames per second of a sped-up stretch."
    )
    max_width: int = Field(default=960, ge=160, le=3840, description="Widest clip frame, px.")
    crf: int = Field(default=28, ge=10, le=45, description="x264 quality (higher: smaller).")
    max_mb: float = Field(
        default=12.0, gt=0.0, description="Largest clip file; a larger cut is re-encoded smaller."
    )
    blur_faces: bool = Field(default=True, description="Pixelate the faces of customers.")
    overlay: bool = Field(default=True, description="Box the people and outline the zones.")

    @model_validator(mode="after")
    def _context_fits(self) -> EvidenceConfig:
        if self.before_s + self.after_s >= self.max_clip_s:
            raise ValueError(
                f"before_s + after_s ({self.before_s + self.after_s:g} s) must be shorter than "
                f"max_clip_s ({self.max_clip_s:g} s), leaving time to show the event"
            )
        return self
