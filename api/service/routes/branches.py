"""``/api/branches``: the branches the caller may see, with review counts and scores."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.schemas.branches import BranchesPublic
from api.service.deps import CurrentUser, SessionDep, SettingsDep
from api.service.queries import branch_summaries
from api.service.scores import ScoreError, period_scores, shown_period

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/branches", tags=["branches"])

Period = Annotated[
    str | None,
    Query(
        max_length=10,
        pattern=r"^\d{4}(-(\d{2}(-\d{2})?|W\d{2}|Q\d|S\d))?$",
        description="Period of the scores: 2026-11, 2026-W47, 2026-Q4, 2026-S2, 2026 … "
        "(default: the month of the newest event).",
    ),
]


@router.get("", response_model=BranchesPublic, responses={422: {}})
def read_branches(
    principal: CurrentUser, db: SessionDep, settings: SettingsDep, period: Period = None
) -> BranchesPublic:
    """Visible branches with pending/confirmed/dismissed counts, score and newest notice."""
    label = shown_period(db, principal, period)
    try:
        scores, per = period_scores(db, settings.scheme, label)
    except ScoreError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return BranchesPublic(
        period=label, scheme=settings.scheme, data=branch_summaries(db, principal, scores, per)
    )
