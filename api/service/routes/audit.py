"""``/api/audit``: the audit log (admins: all; supervisors: their branches and themselves)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.schemas.audit import AuditEntriesPublic, AuditEntryPublic
from api.service.deps import CurrentUser, SessionDep
from api.service.queries import audit_entries

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=AuditEntriesPublic, responses={403: {}})
def read_audit(
    principal: CurrentUser,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditEntriesPublic:
    """Audit records, newest first."""
    if not principal.can_read_audit:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "branch accounts cannot read the audit log")
    rows, count = audit_entries(db, principal, limit, offset)
    return AuditEntriesPublic(
        data=[AuditEntryPublic.model_validate(r) for r in rows],
        count=count,
        limit=limit,
        offset=offset,
    )
