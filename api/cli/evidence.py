"""``branchwatch evidence``: evidence of stored events (``backfill`` cuts missing clips)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from api.config import ConfigError, load_config
from api.db.models import EventRecord

evidence_app = typer.Typer(help="Evidence stills and clips of stored events.", no_args_is_help=True)
console = Console(stderr=True)


@evidence_app.command("backfill")
def backfill(
    config: Annotated[Path, typer.Option("--config", "-c", help="Site configuration YAML.")],
    db: Annotated[str | None, typer.Option(help="Store URL (default: BRANCHWATCH_DB).")] = None,
    work: Annotated[
        Path | None, typer.Option(help="Work folder of the scans (evidence goes under it).")
    ] = None,
) -> None:
    """Cut the evidence clip of every stored event that has none (events of earlier runs, or
    whose clip could not be cut); a clip that still cannot be cut is recorded as a problem."""
    from api.db.session import make_engine, upgrade
    from api.scan.backfill import backfill_clips
    from api.scan.options import ScanOptions

    try:
        site = load_config(config)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    options = ScanOptions.build(db_url=db, work_dir=work, workers=1)
    if not options.work_dir.is_dir():
        console.print(
            f"[red]{options.work_dir} is not the work folder of a scan; "
            "give the scan's --work[/red]",
            highlight=False,
        )
        raise typer.Exit(2)
    engine = make_engine(options.db_url)
    try:
        upgrade(engine)

        def show(record: EventRecord, fields: dict[str, object]) -> None:
            what = fields.get("clip") or f"no clip: {fields.get('clip_problem_detail')}"
            console.print(f"event {record.id} {record.item}: {what}", highlight=False)

        result = backfill_clips(site, engine, options.work_dir, show)
    finally:
        engine.dispose()
    for line in result.skipped:
        console.print(f"skipped {line}", highlight=False)
    console.print(
        f"evidence clips: {result.clips.written} written, {result.clips.failed} could not be cut, "
        f"{result.clips.seconds:.1f} s cutting of {result.wall_s:.1f} s"
    )
    raise typer.Exit(1 if result.clips.failed else 0)
