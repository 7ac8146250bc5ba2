"""The camera health page: each camera per day, with what was wrong with its picture.

Findings come from the camera-health items (:mod:`rules.items.camera`): a moved view (with
its shift and the zone-based items withheld because of it), a black, frozen, covered or
blurred picture. Cameras without findings on a day are listed as fine.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.service.deps import PageUser, SessionDep
from api.service.queries import branch_timezones, camera_health
from rules.items.camera import HEALTH_ITEMS

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/cameras/health", response_class=HTMLResponse)
def health_page(
    request: Request,
    principal: PageUser,
    db: SessionDep,
    days: Annotated[int, Query(ge=1, le=92)] = 7,
) -> Response:
    """Camera health of the last ``days`` days with footage, newest first."""
    nights = camera_health(db, principal, HEALTH_ITEMS, days)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "health.html",
        {"principal": principal, "nights": nights, "days": days, "tzs": branch_timezones(db)},
    )
    return response
