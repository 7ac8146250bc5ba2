"""``branchwatch retention apply``: delete evidence past its retention period (dry run first)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import store_engine
from api.retention import RetentionPolicy, RetentionReport, apply_retention

logger = logging.getLogger(__name__)

retention_app = typer.Typer(no_args_is_help=True)
console = Console()

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="BRANCHWATCH_DB", help="SQLAlchemy URL of the store."),
]
DaysOption = Annotated[int | None, typer.Option(min=1, max=36500)]


@retention_app.callback()
def retention() -> None:
    """Retention of evidence files (clips, stills, timelines)."""


def print_report(report: RetentionReport, out: Console) -> None:
    """What was (or would be) deleted, per kind, and the space freed."""
    table = Table(title="到期证据" + ("（已删除）" if report.executed else "（试运行，未删除）"))
    table.add_column("kind")
    table.add_column("files", justify="right")
    table.add_column("MB", justify="right")
    for kind, (n, size) in sorted(report.by_kind().items()):
        table.add_row(kind.value, str(n), f"{size / 1e6:.2f}")
    out.print(table)
    verb = "freed" if report.executed else "would free"
    out.print(
        f"{len(report.files)} files, {verb} {report.freed_bytes} bytes "
        f"({report.freed_bytes / 1e6:.2f} MB); {report.held_events} events held "
        f"(open appeal or open notice); {report.missing} files already gone",
        highlight=False,
    )
    if not report.executed and report.files:
        out.print("dry run: nothing was deleted; add --execute to delete these files")


@retention_app.command("apply")
def apply(
    execute: Annotated[
        bool, typer.Option("--execute", help="Delete the files (default: only report).")
    ] = False,
    clip_days: DaysOption = None,
    still_days: DaysOption = None,
    timeline_days: DaysOption = None,
    db: DbOption = None,
) -> None:
    """Delete clips, stills and timelines kept longer than their retention period.

    Periods count from when the event was closed (BRANCHWATCH_RETENTION_*_DAYS, default 90);
    events under appeal or in an open notice are held. Events, hashes and an audit entry stay.
    """
    overrides = {
        k: v
        for k, v in {
            "clip_days": clip_days,
            "still_days": still_days,
            "timeline_days": timeline_days,
        }.items()
        if v is not None
    }
    policy = RetentionPolicy.model_validate(overrides)
    engine = store_engine(db)
    try:
        report = apply_retention(engine, policy, execute=execute)
    finally:
        engine.dispose()
    print_report(report, console)
