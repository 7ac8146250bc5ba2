"""``branchwatch score``: scorecards per branch and period from confirmed events."""

from __future__ import annotations

import csv
import json
import logging
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.db.session import StoreURLError, default_db_url
from api.scorecards import ScoreQuery, scorecards_for
from api.store import UnknownName
from rules.periods import PeriodError
from rules.score_table import (
    DEDUCTION_HEADERS,
    SUMMARY_HEADERS,
    deduction_rows,
    summary_rows,
)
from rules.standard import DEFAULT_SCHEME, StandardError

logger = logging.getLogger(__name__)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _table(title: str, headers: dict[str, str], rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for key in headers.values():
        table.add_column(key)
    for row in rows:
        table.add_row(*("" if row[k] is None else str(row[k]) for k in headers))
    return table


def score(
    period: Annotated[str, typer.Option(help="2026-11, 2026-W47, 2026-11-22, 2026-Q4, 2026-S2.")],
    branch: Annotated[str | None, typer.Option(help="Only this branch.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
    scheme: Annotated[str, typer.Option(help="Scheme preset or YAML path.")] = DEFAULT_SCHEME,
    preview: Annotated[
        bool, typer.Option(help="Count pending events too (marked as a preview).")
    ] = False,
    db: Annotated[str | None, typer.Option("--db", envvar="BRANCHWATCH_DB")] = None,
) -> None:
    """Score branches for a period: points, deductions by item, money, rank."""
    err = Console(stderr=True)
    try:
        cards, _ = scorecards_for(
            db or default_db_url(), ScoreQuery(scheme, period, branch, preview)
        )
    except (PeriodError, StandardError, StoreURLError, UnknownName) as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    summary, deductions = summary_rows(cards), deduction_rows(cards)
    if fmt is Format.JSON:
        for row in summary:
            row["deductions"] = [d for d in deductions if d["branch"] == row["branch"]]
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    elif fmt is Format.CSV:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(DEDUCTION_HEADERS))
        writer.writeheader()
        writer.writerows(deductions)
    else:
        out = Console()
        out.print(_table(f"{period} 评分", SUMMARY_HEADERS, summary))
        out.print(_table(f"{period} 扣分明细", DEDUCTION_HEADERS, deductions))
