"""Schemas of API tokens and of the caller."""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.auth import TokenScope, parse_scopes

logger = logging.getLogger(__name__)


class TokenCreate(BaseModel):
    """Request for a new API token of the caller."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What the token is for.")
    scopes: list[TokenScope] = Field(
        default=[TokenScope.READ],
        min_length=1,
        max_length=len(TokenScope),
        description="What it may do: read (events, evidence), review (decisions), "
        "admin (audit log).",
    )
    expires_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Days until it expires (the service's default lifetime if omitted).",
    )


class TokenPublic(BaseModel):
    """An API token without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str = Field(description="First characters, to recognise it.")
    scopes: list[TokenScope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @field_validator("scopes", mode="before")
    @classmethod
    def split_scopes(cls, value: object) -> object:
        """Stored scopes are one space-separated string."""
        if isinstance(value, str):
            return [s for s in TokenScope if s in parse_scopes(value)]
        return value


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
