"""``/api/audit``: the audit log (admins: all; supervisors: their branches and themselves), and
its export as CSV (admins)."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.auth import AuditAction, Role
from api.db.auth_models import AuditLog
from api.schemas.audit import AuditEntriesPublic, AuditEntryPublic
from api.service.deps import API_ERRORS, Auditor, IsoTime, SessionDep, record_access
from api.service.queries import as_utc, audit_entries

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=API_ERRORS)

EXPORT_COLUMNS = ("id", "ts", "username", "action", "target", "branch_id", "ip", "before", "after")
EXPORT_BATCH = 1000


@router.get("", response_model=AuditEntriesPublic)
def read_audit(
    principal: Auditor,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditEntriesPublic:
    """Audit records, newest first."""
    rows, count = audit_entries(db, principal, limit, offset)
    return AuditEntriesPublic(
        data=[AuditEntryPublic.model_validate(r) for r in rows],
        count=count,
        limit=limit,
        offset=offset,
    )


def _csv_lines(engine: Engine, since: datetime | None, until: datetime | None) -> Iterator[str]:
    """The records as CSV (UTF-8 with BOM, for spreadsheet programs), oldest first, read in
    batches on a session of its own."""
    query = select(AuditLog).order_by(AuditLog.id)
    if since is not None:
        query = query.where(AuditLog.ts >= as_utc(since))
    if until is not None:
        query = query.where(AuditLog.ts < as_utc(until))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    with Session(engine) as db:
        for row in db.scalars(query.execution_options(yield_per=EXPORT_BATCH)):
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(
                (
                    row.id,
                    row.ts.isoformat(),
                    row.username,
                    row.action,
                    row.target,
                    row.branch_id or "",
                    row.ip,
                    json.dumps(row.before, ensure_ascii=False) if row.before is not None else "",
                    json.dumps(row.after, ensure_ascii=False) if row.after is not None else "",
                )
            )
            yield buffer.getvalue()


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The audit log as CSV."}},
)
def export_audit(
    principal: Auditor,
    request: Request,
    db: SessionDep,
    since: Annotated[IsoTime | None, Query(description="From this time on (ISO 8601).")] = None,
    until: Annotated[IsoTime | None, Query(description="Before this time (ISO 8601).")] = None,
) -> StreamingResponse:
    """The whole audit log (or the records between ``since`` and ``until``) as CSV; admins only.

    The export itself is recorded in the log.
    """
    if principal.role is not Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only admins can export the audit log")
    record_access(
        db,
        request,
        principal,
        AuditAction.AUDIT_EXPORTED,
        target="audit_log",
        branch_id=None,
        after={
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
    )
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        _csv_lines(request.app.state.engine, since, until),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="branchwatch-audit-{stamp}.csv"',
            "Cache-Control": "private, no-store",
        },
    )
