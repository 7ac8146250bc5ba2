"""A branch's scorecard page (linked from the overview) and the heat maps it shows."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from api.db.models import Branch
from api.service.deps import PageUser, SessionDep, SettingsDep
from api.service.overview import branch_pictures, heatmap_png
from api.service.scores import ScoreError, period_scores, shown_period

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/branches", tags=["pages"], include_in_schema=False)

BranchId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
PeriodText = Annotated[str, Query(max_length=10)]


def _branch(db: SessionDep, principal: PageUser, branch: str) -> Branch:
    row = db.get(Branch, branch)
    if row is None or not principal.can_view(branch):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"无此网点：{branch}")
    return row


@router.get("/{branch}/scorecard", response_class=HTMLResponse)
def scorecard_page(
    request: Request,
    principal: PageUser,
    db: SessionDep,
    settings: SettingsDep,
    branch: BranchId,
    period: PeriodText = "",
) -> Response:
    """Score, money, rank, deductions per item, score trend and heat maps of one branch."""
    row = _branch(db, principal, branch)
    label = shown_period(db, principal, period)
    error, pictures = None, {}
    try:
        period_scores(db, settings.scheme, label)  # validates period and scheme
        pictures = branch_pictures(db, settings.db, settings.scheme, label)
    except ScoreError as exc:
        error = str(exc)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "scorecard.html",
        {
            "principal": principal,
            "branch": row,
            "period": label,
            "pic": pictures.get(branch),
            "score_error": error,
        },
    )
    return response


@router.get("/{branch}/heat/{camera}.png")
def heat_png(
    principal: PageUser,
    db: SessionDep,
    settings: SettingsDep,
    branch: BranchId,
    camera: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    period: PeriodText,
) -> Response:
    """Where the camera's confirmed violations of the period were, over its reference frame."""
    _branch(db, principal, branch)
    try:
        period_scores(db, settings.scheme, period)
    except ScoreError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    pic = branch_pictures(db, settings.db, settings.scheme, period).get(branch)
    heat = next((h for h in pic.heats if h.camera == camera), None) if pic else None
    if heat is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{branch}/{camera} 本期无违规位置")
    return Response(
        heatmap_png(heat), media_type="image/png", headers={"Cache-Control": "private, max-age=60"}
    )
