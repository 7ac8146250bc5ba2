"""``GET /notifications``: the delivery queue with each message's status (staff only).

Admins see every delivery; supervisors those of their branches and those about no branch
(nightly runs). Branch accounts have no access, as with the audit log.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, or_, select

from api.db.loop_models import Delivery, Subscription
from api.service.deps import PageUser, SessionDep

logger = logging.getLogger(__name__)

router = APIRouter(tags=["notifications"], include_in_schema=False)

PAGE = 100


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request,
    principal: PageUser,
    db: SessionDep,
    state: Annotated[str, Query(pattern="^(|pending|sending|sent|failed)$")] = "",
) -> Response:
    """Recent deliveries, newest first, and how many are in each state."""
    if not principal.can_read_audit:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "网点账号无权查看通知投递记录")
    query = select(Delivery)
    branches = principal.visible_branches
    if branches is not None:
        query = query.where(
            or_(Delivery.branch_id.is_(None), Delivery.branch_id.in_(sorted(branches)))
        )
    visible = query.subquery()
    counts: dict[str, int] = {
        state_: int(n)
        for state_, n in db.execute(select(visible.c.state, func.count()).group_by(visible.c.state))
    }
    if state:
        query = query.where(Delivery.state == state)
    rows = list(db.scalars(query.order_by(Delivery.id.desc()).limit(PAGE)))
    names = {s.id: s.name for s in db.scalars(select(Subscription))}
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "notifications.html",
        {"principal": principal, "rows": rows, "counts": counts, "names": names, "state": state},
    )
    return response
