"""Settings of the review service, from ``BRANCHWATCH_*`` environment variables.

``get_settings()`` is cached, so tests override it (``get_settings.cache_clear()`` or a
``dependency_overrides`` entry) instead of patching a global built at import.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.db.session import default_db_url
from rules.standard import DEFAULT_SCHEME

logger = logging.getLogger(__name__)

DEFAULT_SECRET = "changethis"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """How the service runs; every field can be set as ``BRANCHWATCH_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="BRANCHWATCH_", extra="forbid", frozen=True)

    environment: Literal["development", "production"] = Field(
        default="production",
        description="`development` allows the default secret; never use it for real footage.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET),
        description="Key of the HMAC digests of session and API tokens and of login CSRF "
        f"tokens; at least {MIN_SECRET_LENGTH} characters outside development.",
    )
    db: str = Field(
        default_factory=default_db_url, min_length=1, description="SQLAlchemy URL of the store."
    )
    session_hours: float = Field(
        default=12.0, gt=0.0, le=720.0, description="Lifetime of a browser login (hours)."
    )
    login_max_failures: int = Field(
        default=5, ge=1, le=1000, description="Failed logins per user name within the window."
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1, le=10_000, description="Failed logins per client address in the window."
    )
    login_window_s: int = Field(
        default=900, ge=10, le=86_400, description="Window of the login rate limit (seconds)."
    )
    scheme: str = Field(
        default=DEFAULT_SCHEME,
        min_length=1,
        max_length=500,
        description="Scoring scheme (preset name or YAML file) of the overview's scores.",
    )
    page_size: int = Field(
        default=50, ge=1, le=500, description="Events per page of the review queue."
    )
    config: Path | None = Field(
        default=None,
        description="Site configuration file; with it the 规则质量 page re-runs the rules over "
        "the stored timelines to show parameter changes suggested by dismissals.",
    )
    evidence_dir: Path = Field(
        default_factory=lambda: Path.cwd() / "evidence",
        description="Folder for the stills of manual findings recorded in the UI.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies trusted for X-Forwarded-Proto/For (comma list, `*` for any); "
        "behind a TLS proxy cookies get the Secure flag.",
    )

    @model_validator(mode="after")
    def verify_secret(self) -> Settings:
        """Refuse the default or a short secret outside development."""
        secret = self.secret_key.get_secret_value()
        if self.environment != "development" and (
            secret == DEFAULT_SECRET or len(secret) < MIN_SECRET_LENGTH
        ):
            raise ValueError(
                "BRANCHWATCH_SECRET_KEY must be set to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`), or set BRANCHWATCH_ENVIRONMENT=development"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
