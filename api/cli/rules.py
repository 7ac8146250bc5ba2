"""``branchwatch rules quality``: precision of each rule from the supervisors' decisions."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.config import ConfigError, load_config
from api.db.session import StoreURLError, default_db_url, make_engine, session_scope
from api.quality import stored_quality
from api.suggest import suggest
from rules.quality import precision_text, reasons_text
from rules.standard import item_name

logger = logging.getLogger(__name__)

rules_app = typer.Typer(help="Rules: how well they do.", no_args_is_help=True)

QUALITY_HEADERS = (
    "检查项目",
    "摄像机",
    "规则版本",
    "确认",
    "排除",
    "待审核",
    "漏报",
    "准确率(95%区间)",
    "排除原因",
)


@rules_app.command("quality")
def quality(
    item: Annotated[str | None, typer.Option(help="Only this inspection item.")] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Configuration file: with it, parameter changes suggested by the dismissals "
            "are re-run over the stored timelines and their effect printed.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    db: Annotated[str | None, typer.Option("--db", envvar="BRANCHWATCH_DB")] = None,
) -> None:
    """Confirmed, dismissed (with reasons), pending and missed events per item, camera and
    rule version, with precision and its 95% Wilson interval."""
    err = Console(stderr=True)
    try:
        engine = make_engine(db or default_db_url())
    except StoreURLError as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    try:
        site = load_config(config) if config is not None else None
    except ConfigError as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    try:
        with session_scope(engine) as session:
            rows = stored_quality(session, item=item)
            suggestions = (
                [
                    s
                    for code in sorted({r.item for r in rows if r.dismissed})
                    for s in suggest(session, site, code)
                ]
                if site is not None
                else []
            )
    finally:
        engine.dispose()
    if as_json:
        data = [
            {
                "item": r.item,
                "camera": r.camera,
                "rule_version": r.rule_version,
                "confirmed": r.confirmed,
                "dismissed": r.dismissed,
                "pending": r.pending,
                "missed": r.missed,
                "precision": r.precision,
                "interval": list(r.interval),
                "reasons": dict(r.reasons),
            }
            for r in rows
        ]
        advice = [
            {
                "item": s.item,
                "branch": s.branch,
                "camera": s.camera,
                "parameter": s.parameter,
                "current": asdict(s.current),
                "suggested": asdict(s.suggested),
                "text": s.text,
            }
            for s in suggestions
        ]
        body = {"rules": data, "suggestions": advice}
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table(title="规则质量")
    for header in QUALITY_HEADERS:
        table.add_column(header)
    for r in rows:
        table.add_row(
            item_name(r.item),
            r.camera,
            r.rule_version,
            str(r.confirmed),
            str(r.dismissed),
            str(r.pending),
            str(r.missed),
            precision_text(r),
            reasons_text(r),
        )
    out = Console(width=200)
    out.print(table)
    for s in suggestions:
        out.print(f"建议 {item_name(s.item)} {s.branch}/{s.camera}:{s.text}", highlight=False)
