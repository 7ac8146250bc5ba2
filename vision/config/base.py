"""Base class of every configuration model."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Frozen pydantic model that rejects unknown keys, so typos in YAML are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
