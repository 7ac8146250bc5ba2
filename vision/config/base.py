"""Base class of every configuration model."""

from pydantic import BaseModel, ConfigDict

ID_PATTERN = r"^[A-Za-z0-9_.-]+$"
"""Ids of branches, cameras and zones: letters, digits, ``_``, ``.`` and ``-`` (safe in paths)."""


class StrictModel(BaseModel):
    """Frozen pydantic model that rejects unknown keys, so typos in YAML are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
