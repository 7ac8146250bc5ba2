"""``branchwatch notices`` and ``branchwatch report``: rectification notices and the management
report from confirmed events (``--preview`` counts pending ones too and says so on every page).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from api.auth import AuditAction, cli_origin, record_audit
from api.charts import ChartError
from api.db.models import Branch
from api.db.session import (
    SchemaError,
    StoreURLError,
    check_schema,
    default_db_url,
    make_engine,
    session_scope,
)
from api.notices import NoticeError, PolicyError, generate_notice, load_policy
from api.reports import report_data, write_report
from api.scorecards import scheme_period
from rules.periods import PeriodError
from rules.standard import DEFAULT_SCHEME, StandardError
from vision.fonts import FontMissing

logger = logging.getLogger(__name__)

PeriodOption = Annotated[
    str, typer.Option(help="2026-11-20, 2026-W47, 2026-11, 2026-Q4, 2026-S2 or 2026.")
]
SchemeOption = Annotated[str, typer.Option(help="Scheme preset (psbc, xiaowei, abc) or YAML path.")]
PreviewOption = Annotated[
    bool, typer.Option(help="Count pending events too (every page says 预览（含待审核事件）).")
]
DbOption = Annotated[str | None, typer.Option("--db", envvar="BRANCHWATCH_DB", help="Store URL.")]
USAGE_ERRORS = (
    PeriodError,
    StandardError,
    StoreURLError,
    SchemaError,
    NoticeError,
    PolicyError,
    FontMissing,
    ChartError,
)


def notices(
    period: PeriodOption,
    branch: Annotated[str | None, typer.Option(help="Only this branch (default: all).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the notice files.")] = Path("notices"),
    db: DbOption = None,
    scheme: SchemeOption = DEFAULT_SCHEME,
    preview: PreviewOption = False,
    policy: Annotated[
        Path | None, typer.Option(help="YAML with issuer, deadlines and responsible roles.")
    ] = None,
) -> None:
    """Write rectification notices (整改通知书) as DOCX, PDF and HTML; each run adds a version."""
    err = Console(stderr=True)
    engine = None
    try:
        rules = load_policy(policy)
        scheme_period(scheme, period)  # a wrong period is named even where no branch is stored
        out.mkdir(parents=True, exist_ok=True)
        engine = make_engine(db or default_db_url())
        check_schema(engine)
        table = Table(title=f"{period} 整改通知书")
        for col in ("网点", "编号", "版本", "问题", "扣分", "考核金额(元)", "文件"):
            table.add_column(col)
        who, origin = cli_origin()
        with session_scope(engine) as session:
            ids = (
                [branch] if branch else list(session.scalars(select(Branch.id).order_by(Branch.id)))
            )
            for branch_id in ids:
                made = generate_notice(
                    session, branch_id, period, out, scheme=scheme, policy=rules, preview=preview
                )
                record_audit(
                    session,
                    AuditAction.NOTICE_GENERATED,
                    username=who,
                    ip=origin,
                    target=f"notice:{made.notice_id}",
                    branch_id=branch_id,
                    after=made.summary,
                )
                c = made.content
                table.add_row(
                    c.branch_name,
                    c.number,
                    str(c.version) + ("（预览）" if c.preview else ""),
                    str(len(c.lines)),
                    f"{c.deducted:g}",
                    f"{c.penalty_total:,.2f}",
                    str(made.paths["pdf"].parent),
                )
    except USAGE_ERRORS as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    finally:
        if engine is not None:
            engine.dispose()
    Console().print(table)


def report(
    period: PeriodOption,
    out: Annotated[Path, typer.Option(help="Folder for the report and its charts.")] = Path(
        "reports"
    ),
    db: DbOption = None,
    scheme: SchemeOption = DEFAULT_SCHEME,
    preview: PreviewOption = False,
    trend: Annotated[int, typer.Option(min=1, max=36, help="Periods in the trend chart.")] = 6,
) -> None:
    """Write the management report (PDF): ranking with bands, trend, deductions, heat maps."""
    err = Console(stderr=True)
    engine = None
    try:
        engine = make_engine(db or default_db_url())
        check_schema(engine)
        with session_scope(engine) as session:
            data = report_data(session, scheme, period, preview=preview, trend=trend)
        tag = "_预览" if preview else ""
        path = write_report(data, out / f"管理报告_{data.period.label}{tag}.pdf")
    except USAGE_ERRORS as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    finally:
        if engine is not None:
            engine.dispose()
    Console().print(f"wrote {path}")
