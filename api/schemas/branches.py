"""Schemas of branches as the overview shows them."""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)


class NoticeSummary(BaseModel):
    """The newest rectification notice of a branch."""

    number: str
    period: str
    total_points: float = Field(description="Points deducted.")
    total_money: float = Field(description="Money (yuan).")
    created_at: datetime


class BranchPublic(BaseModel):
    """A branch with its review counts."""

    id: str
    name: str
    timezone: str
    pending: int = Field(description="Events awaiting review.")
    confirmed: int
    dismissed: int
    score: float | None = Field(description="Score of the period from confirmed events.")
    deducted: float | None = Field(description="Points deducted in the period.")
    money: float | None = Field(description="Money (元) the period's result costs the branch.")
    rank: int | None = Field(description="Rank among all branches in the period (1 = best).")
    latest_notice: NoticeSummary | None


class BranchesPublic(BaseModel):
    """The branches the caller may see, scored for one period."""

    period: str = Field(description="Period of the scores, e.g. 2026-11.")
    scheme: str = Field(description="Scoring scheme.")
    data: list[BranchPublic]
