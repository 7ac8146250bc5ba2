"""``branchwatch serve``: run the review service."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from api.cli.common import ensure_port_free
from api.db.session import SchemaError, StoreURLError, check_schema, make_engine
from api.service.settings import DEFAULT_SECRET, DEFAULT_SECRET_WARNING, Settings, get_settings

logger = logging.getLogger(__name__)

EXIT_USAGE = 2
console = Console(stderr=True)


def serve_settings(db: str | None) -> Settings:
    """Settings from the environment, with the database from ``--db`` if given.

    Raises:
        typer.Exit: The settings are invalid (e.g. the default secret outside development).
    """
    try:
        settings = get_settings()
        return Settings.model_validate({**settings.model_dump(), "db": db}) if db else settings
    except ValidationError as exc:
        for err in exc.errors():
            console.print(f"[red]settings: {err['msg']}[/red]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from exc


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="BRANCHWATCH_DB", help="SQLAlchemy URL of the store."),
    ] = None,
) -> None:
    """Run the review web service (UI at /, JSON API under /api, schema at /openapi.json)."""
    import uvicorn

    from api.service.app import create_app

    ensure_port_free(host, port)
    settings = serve_settings(db)
    if (
        settings.environment == "development"
        and settings.secret_key.get_secret_value() == DEFAULT_SECRET
    ):
        console.print(f"[yellow]warning: {DEFAULT_SECRET_WARNING}[/yellow]", highlight=False)
    try:
        engine = make_engine(settings.db)
        check_schema(engine)
        engine.dispose()
    except (StoreURLError, SchemaError) as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from exc
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=False,  # the app trusts only BRANCHWATCH_FORWARDED_ALLOW_IPS
        limit_concurrency=settings.max_requests,
        log_level="info",
    )
