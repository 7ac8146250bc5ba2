"""Schemas of API tokens and of the caller."""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)


class TokenCreate(BaseModel):
    """Request for a new API token of the caller."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What the token is for.")
    expires_days: int | None = Field(
        default=None, ge=1, le=3650, description="Days until it expires (never if omitted)."
    )


class TokenPublic(BaseModel):
    """An API token without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str = Field(description="First characters, to recognise it.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    """A new token; ``token`` is shown this once and never again."""

    token: str


class TokensPublic(BaseModel):
    """The caller's tokens."""

    data: list[TokenPublic]


class UserPublic(BaseModel):
    """The authenticated caller."""

    username: str
    display_name: str
    role: str
    branches: list[str]
