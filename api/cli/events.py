"""``branchwatch events``: export stored events as JSON lines or CSV.

Times are written in ISO 8601 with the UTC offset of the event's branch, e.g.
``2026-11-22T09:42:10+08:00``.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.db.models import EventRecord
from api.db.session import (
    SchemaError,
    StoreURLError,
    check_schema,
    default_db_url,
    make_engine,
    parse_db_url,
)
from api.store import EventFilter, Store, UnknownName, require_known
from rules.types import EventStatus

logger = logging.getLogger(__name__)

EXIT_USAGE = 2
PAGE_SIZE = 1000
EXPORT_FIELDS = (
    "id",
    "key",
    "branch",
    "camera",
    "item",
    "start",
    "end",
    "status",
    "zone",
    "people",
    "rule_version",
    "detector_version",
    "video",
    "evidence",
    "details",
)
_JSON_FIELDS = frozenset({"people", "evidence", "details"})

events_app = typer.Typer(no_args_is_help=True)


@events_app.callback()
def events() -> None:
    """Export stored events."""


class ExportFormat(StrEnum):
    """Output format of ``events export``."""

    JSONL = "jsonl"
    CSV = "csv"


class ExportError(Exception):
    """The export cannot run; the message says why in one line."""


def event_row(record: EventRecord, tz: ZoneInfo) -> dict[str, Any]:
    """One exported event, with times in its branch's time zone.

    Args:
        record: Stored event (its video loaded).
        tz: Time zone of the event's branch.

    Returns:
        A JSON-serialisable mapping with the keys of :data:`EXPORT_FIELDS`.
    """
    return {
        "id": record.id,
        "key": record.key,
        "branch": record.branch_id,
        "camera": record.camera_id,
        "item": record.item,
        "start": record.start_ts.astimezone(tz).isoformat(),
        "end": record.end_ts.astimezone(tz).isoformat(),
        "status": record.status,
        "zone": record.zone,
        "people": record.people,
        "rule_version": record.rule_version,
        "detector_version": record.detector_version,
        "video": record.video.path if record.video is not None else None,
        "evidence": record.evidence,
        "details": record.details,
    }


def parse_time(value: str, tz: ZoneInfo | None, option: str) -> datetime:
    """Read ``--since``/``--until``: ISO 8601; without an offset it is local time in ``tz``.

    Raises:
        ExportError: The value is not ISO 8601, or has no offset and no time zone applies.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ExportError(
            f"{option} {value!r} is not an ISO 8601 date or time "
            "(e.g. 2026-11-22 or 2026-11-22T09:00+08:00)"
        ) from exc
    if parsed.tzinfo is not None:
        return parsed
    if tz is None:
        raise ExportError(
            f"{option} {value!r} has no UTC offset and the stored branches have different "
            "time zones; add an offset (e.g. +08:00) or --branch"
        )
    return parsed.replace(tzinfo=tz)


def _filter_zone(branch: str | None, zones: dict[str, ZoneInfo]) -> ZoneInfo | None:
    """Time zone that offset-less ``--since``/``--until`` values are read in."""
    if branch is not None:
        require_known("branch", branch, zones)
        return zones[branch]
    distinct = {str(zone) for zone in zones.values()}
    return next(iter(zones.values())) if len(distinct) == 1 else None


def _iter_rows(store: Store, base: EventFilter) -> Iterator[dict[str, Any]]:
    zones = store.branch_timezones()
    offset = 0
    while True:
        page = store.list_events(replace(base, limit=PAGE_SIZE, offset=offset))
        for record in page:
            yield event_row(record, zones[record.branch_id])
        if len(page) < PAGE_SIZE:
            return
        offset += PAGE_SIZE


def write_events(rows: Iterator[dict[str, Any]], fmt: ExportFormat, out: TextIO) -> int:
    """Write exported events as JSON lines or CSV (nested fields as JSON text).

    Returns:
        How many events were written.
    """
    count = 0
    if fmt is ExportFormat.JSONL:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                name: json.dumps(value, ensure_ascii=False) if name in _JSON_FIELDS else value
                for name, value in row.items()
            }
        )
        count += 1
    return count


@contextmanager
def _open_out(path: Path | None, fmt: ExportFormat) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    newline = "" if fmt is ExportFormat.CSV else None
    try:
        handle = path.open("w", encoding="utf-8", newline=newline)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from exc
    with handle:
        yield handle


@contextmanager
def _read_session(url: str) -> Iterator[Session]:
    """A read-only session on an existing, migrated database; never creates one."""
    parsed = parse_db_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        if not Path(database).is_file():
            raise ExportError(f"database file {database} does not exist")
    engine = make_engine(parsed)
    try:
        check_schema(engine)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@events_app.command("export")
def export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExportFormat.JSONL,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="SQLAlchemy database URL [default: $BRANCHWATCH_DB or ./branchwatch.db]."
        ),
    ] = None,
    branch: Annotated[str | None, typer.Option(help="Only this branch id.")] = None,
    camera: Annotated[str | None, typer.Option(help="Only this camera id.")] = None,
    item: Annotated[str | None, typer.Option(help="Only this inspection item code.")] = None,
    status: Annotated[EventStatus | None, typer.Option(help="Only this review status.")] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Events starting at or after this ISO 8601 time; without an offset it is the "
            "branch's local time."
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Events starting before this ISO 8601 time.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Export stored events, ordered by start time, as JSON lines or CSV."""
    url = db or default_db_url()
    try:
        with _read_session(url) as session:
            store = Store(session)
            zone = _filter_zone(branch, store.branch_timezones())
            require_known("camera", camera, store.camera_ids(branch))
            base = EventFilter(
                branch=branch,
                camera=camera,
                item=item,
                status=status,
                since=parse_time(since, zone, "--since") if since else None,
                until=parse_time(until, zone, "--until") if until else None,
            )
            with _open_out(out, fmt) as handle:
                count = write_events(_iter_rows(store, base), fmt, handle)
    except (ExportError, UnknownName, StoreURLError, SchemaError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        typer.echo(f"error: cannot read database {_safe(url)}: {reason}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc
    logger.info("exported %d events from %s", count, _safe(url))


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return parse_db_url(url).render_as_string(hide_password=True)
    except StoreURLError:
        return url
