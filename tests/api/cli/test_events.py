"""Tests of ``branchwatch events export`` against SQLite and PostgreSQL databases."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from api.cli.events import EXPORT_FIELDS, events_app
from api.db.models import EventRecord
from api.db.session import DB_ENV, make_engine, session_scope, upgrade
from api.store import Store, VideoStatus
from tests.api.test_store import SITE, T0, make_event, record

runner = CliRunner()


@pytest.fixture(scope="module")
def stored_url(new_db_url: Callable[[], str]) -> str:
    """A migrated database holding four events of two branches in different time zones."""
    url = new_db_url()
    engine = make_engine(url)
    try:
        upgrade(engine)
        with session_scope(engine) as sess:
            store = Store(sess)
            store.sync_site(SITE)
            video = record(store, "aaaaaaaa", VideoStatus.DONE)
            first = make_event(0)
            store.add_events(
                [first, make_event(20, item="GUARD_POSTURE"), make_event(40, camera="cam2")],
                "d1",
                video.id,
                None,
                {first.key: {"still": "/ev/still.jpg"}},
            )
            store.add_events([make_event(10, branch="b2")], "d1", None, None)
            sess.execute(
                update(EventRecord).where(EventRecord.key == first.key).values(status="confirmed")
            )
    finally:
        engine.dispose()
    return url


def export(*args: str) -> Result:
    return runner.invoke(events_app, ["export", *args])


def jsonl(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_jsonl_export_has_one_object_per_event_in_branch_time(stored_url: str) -> None:
    rows = jsonl(export("--format", "jsonl", "--db", stored_url))
    assert [r["start"] for r in rows] == [
        "2026-11-22T09:00:00+08:00",
        "2026-11-22T07:10:00+06:00",
        "2026-11-22T09:20:00+08:00",
        "2026-11-22T09:40:00+08:00",
    ]
    first = rows[0]
    assert set(first) == set(EXPORT_FIELDS)
    assert first == first | {
        "branch": "b1",
        "camera": "cam1",
        "item": "LOBBY_MANAGER_ABSENT",
        "end": "2026-11-22T09:07:00+08:00",
        "status": "confirmed",
        "video": "/exports/aaaaaaaa.mp4",
        "zone": "post",
        "people": [{"track_id": 3, "role": "guard"}, {"track_id": 8, "role": "customer"}],
        "rule_version": "1",
        "evidence": {"still": "/ev/still.jpg"},
        "key": make_event(0).key,
    }
    assert isinstance(first["id"], int)
    assert rows[1]["video"] is None and rows[1]["branch"] == "b2"


def test_csv_export(stored_url: str) -> None:
    result = export("--format", "csv", "--db", stored_url, "--branch", "b1")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["item"], r["start"], r["status"]) for r in rows] == [
        ("LOBBY_MANAGER_ABSENT", "2026-11-22T09:00:00+08:00", "confirmed"),
        ("GUARD_POSTURE", "2026-11-22T09:20:00+08:00", "pending"),
        ("LOBBY_MANAGER_ABSENT", "2026-11-22T09:40:00+08:00", "pending"),
    ]
    assert json.loads(rows[0]["people"])[0] == {"track_id": 3, "role": "guard"}
    assert json.loads(rows[0]["evidence"]) == {"still": "/ev/still.jpg"}


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["--branch", "b1", "--camera", "cam2"], ["09:40"]),
        (["--item", "GUARD_POSTURE"], ["09:20"]),
        (["--status", "pending", "--branch", "b1"], ["09:20", "09:40"]),
        (
            ["--branch", "b1", "--since", "2026-11-22T09:20", "--until", "2026-11-22T09:40"],
            ["09:20"],
        ),
        (["--since", "2026-11-22T01:15:00Z"], ["09:20", "09:40"]),
        (["--until", "2026-11-22T09:11:00+08:00"], ["09:00", "07:10"]),
        (["--branch", "b2", "--since", "2026-11-22"], ["07:10"]),
        (["--branch", "b1", "--until", "2026-11-22"], []),
    ],
)
def test_filters(stored_url: str, args: list[str], starts: list[str]) -> None:
    rows = jsonl(export("--db", stored_url, *args))
    assert [r["start"][11:16] for r in rows] == starts


def test_database_from_the_environment_and_output_file(
    stored_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DB_ENV, stored_url)
    out = tmp_path / "events.jsonl"
    result = export("--out", str(out), "--item", "GUARD_POSTURE")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["item"] == "GUARD_POSTURE"


def _fails(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-11-22T09:00"], "different time zones"),
        (["--since", "yesterday", "--branch", "b1"], "--since 'yesterday' is not an ISO 8601"),
        (["--branch", "b9"], "no branch 'b9' in the database (branches: b1, b2)"),
        (["--camera", "nosuch"], "no camera 'nosuch' in the database (cameras: "),
        (["--branch", "b2", "--camera", "cam2"], "no camera 'cam2' in the database"),
    ],
)
def test_bad_filters(stored_url: str, args: list[str], message: str) -> None:
    _fails(export("--db", stored_url, *args), message)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "invalid database URL 'not a url'"),
        ("mysql://u@localhost/bw", "unsupported database 'mysql'"),
        (
            "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=3",
            "cannot read database postgresql+psycopg://postgres@127.0.0.1:1/test",
        ),
    ],
)
def test_bad_or_unreachable_database(url: str, message: str) -> None:
    _fails(export("--db", url), message)


def test_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    _fails(export("--db", f"sqlite:///{path}"), f"database file {path} does not exist")
    assert not path.exists()


def test_database_without_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    _fails(export("--db", f"sqlite:///{path}"), "holds no branchwatch data")


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("hello " * 1000)
    _fails(export("--db", f"sqlite:///{path}"), "file is not a database")


def test_unwritable_output(stored_url: str, tmp_path: Path) -> None:
    _fails(
        export("--db", stored_url, "--out", str(tmp_path / "missing" / "x.jsonl")),
        "cannot write",
    )


def test_paging_exports_every_event(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.cli.events.PAGE_SIZE", 3)
    engine = make_engine(fresh_db_url)
    try:
        upgrade(engine)
        with session_scope(engine) as sess:
            store = Store(sess)
            store.sync_site(SITE)
            store.add_events([make_event(m) for m in range(7)], "d1", None, None)
    finally:
        engine.dispose()
    rows = jsonl(export("--db", fresh_db_url))
    starts = [(T0 + timedelta(minutes=m)).isoformat() for m in range(7)]
    assert [r["start"] for r in rows] == starts
