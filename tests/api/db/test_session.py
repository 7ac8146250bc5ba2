"""Tests of api/db/session.py: URLs, engines, migrations to head, unit-of-work sessions."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.pool import QueuePool

from api.db.models import Branch
from api.db.session import (
    DB_ENV,
    POOL_SIZE,
    SchemaError,
    StoreURLError,
    alembic_config,
    check_schema,
    current_revision,
    default_db_url,
    head_revision,
    make_engine,
    parse_db_url,
    session_scope,
    upgrade,
)

TABLES = {
    "alembic_version",
    "branches",
    "cameras",
    "coverage_gaps",
    "events",
    "notices",
    "reviews",
    "runs",
    "videos",
}


def test_default_db_url_is_a_sqlite_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DB_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_db_url() == f"sqlite:///{tmp_path / 'branchwatch.db'}"


def test_default_db_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DB_ENV, "postgresql+psycopg://u@db.example/bw")
    assert default_db_url() == "postgresql+psycopg://u@db.example/bw"


@pytest.mark.parametrize(
    ("url", "driver", "expectation"),
    [
        ("sqlite:///x.db", "sqlite", does_not_raise()),
        ("postgresql://u@h/db", "postgresql+psycopg", does_not_raise()),
        ("postgres://u@h/db", "postgresql+psycopg", does_not_raise()),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg", does_not_raise()),
        ("not a url", None, pytest.raises(StoreURLError, match="invalid database URL")),
        ("mysql://u@h/db", None, pytest.raises(StoreURLError, match="unsupported database")),
    ],
)
def test_parse_db_url(
    url: str, driver: str | None, expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        assert parse_db_url(url).drivername == driver


def test_sqlite_engine_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'bw.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()


def test_postgresql_engine_pools_and_pings() -> None:
    engine = make_engine("postgresql://u@db.example/bw")
    assert engine.dialect.driver == "psycopg"
    assert engine.pool._pre_ping
    assert isinstance(engine.pool, QueuePool)
    assert engine.pool.size() == POOL_SIZE


def test_upgrade_migrates_a_fresh_database_once(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    try:
        assert current_revision(engine) is None
        with pytest.raises(SchemaError, match="no schema"):
            check_schema(engine)
        assert upgrade(engine) == head_revision()
        assert TABLES <= set(inspect(engine).get_table_names())
        with session_scope(engine) as sess:
            sess.add(Branch(id="b1", name="城东支行", timezone="Asia/Shanghai"))
        assert upgrade(fresh_db_url) == head_revision()
        check_schema(engine)
        with engine.connect() as conn:
            assert conn.execute(select(Branch.name)).scalar_one() == "城东支行"
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        engine.dispose()


def test_concurrent_upgrades_wait_for_each_other(fresh_db_url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        revisions = list(pool.map(upgrade, [fresh_db_url] * 4))
    assert revisions == [head_revision()] * 4
    engine = make_engine(fresh_db_url)
    try:
        check_schema(engine)
    finally:
        engine.dispose()


def test_older_schema_is_reported_and_migrated(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    try:
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
        if head_revision() != "0001":
            with pytest.raises(SchemaError, match="at schema revision 0001, .* expects"):
                check_schema(engine)
        assert upgrade(engine) == head_revision()
        check_schema(engine)
    finally:
        engine.dispose()


def test_newer_schema_is_refused(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
        for act in (check_schema, upgrade):
            with pytest.raises(SchemaError, match="revision ffff, which this branchwatch does not"):
                act(engine)
    finally:
        engine.dispose()


def test_session_scope_commits_or_rolls_back(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    try:
        upgrade(engine)
        with session_scope(engine) as sess:
            sess.add(Branch(id="kept", name="A", timezone="Asia/Shanghai"))
        with pytest.raises(RuntimeError), session_scope(engine) as sess:
            sess.add(Branch(id="lost", name="B", timezone="Asia/Shanghai"))
            sess.flush()
            raise RuntimeError("unit failed")
        with session_scope(engine) as sess:
            assert sess.scalars(select(Branch.id)).all() == ["kept"]
    finally:
        engine.dispose()


def test_a_new_sqlite_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "store" / "branchwatch.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
