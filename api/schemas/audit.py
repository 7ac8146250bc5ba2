"""Schemas of the audit log."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)


class AuditEntryPublic(BaseModel):
    """One audit record."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ts: datetime
    username: str
    action: str
    target: str
    branch_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str


class AuditEntriesPublic(BaseModel):
    """A page of audit records, newest first."""

    data: list[AuditEntryPublic]
    count: int
    limit: int
    offset: int
