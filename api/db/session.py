"""Engines, sessions and schema migrations of the store (SQLite by default, or PostgreSQL).

Example:
    >>> engine = make_engine("sqlite:///branchwatch.db")
    >>> upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     session.add(...)
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

DB_ENV = "BRANCHWATCH_DB"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 10
POOL_MAX_OVERFLOW = 20
POOL_TIMEOUT_S = 60
PG_POOL_RECYCLE_S = 1800
SQLITE_IMMEDIATE = "branchwatch_sqlite_immediate"
"""Execution option: on SQLite, take the write lock when the transaction begins."""
MIGRATIONS = "api:migrations"
# Any constant serves: it only has to be the same for every branchwatch process.
_PG_MIGRATION_LOCK = 0x6272_7763  # "brwc"


class StoreURLError(ValueError):
    """The database URL cannot be parsed or names a backend branchwatch does not support."""


class SchemaError(RuntimeError):
    """The database schema is missing or not at the revision this branchwatch expects."""


def default_db_url() -> str:
    """Database URL from ``BRANCHWATCH_DB``, else a SQLite file in the working directory.

    Returns:
        A SQLAlchemy URL string.
    """
    url = os.environ.get(DB_ENV, "").strip()
    return url or f"sqlite:///{Path.cwd() / 'branchwatch.db'}"


def parse_db_url(url: str | URL) -> URL:
    """Parse a database URL and give plain PostgreSQL URLs the psycopg 3 driver.

    Args:
        url: SQLAlchemy URL; ``postgresql://`` and ``postgres://`` mean psycopg 3.

    Returns:
        The parsed URL.

    Raises:
        StoreURLError: The URL is malformed or names a backend other than SQLite/PostgreSQL.
    """
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreURLError(f"invalid database URL {str(url)!r}: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql"):
        raise StoreURLError(
            f"unsupported database {parsed.drivername!r} in "
            f"{parsed.render_as_string(hide_password=True)!r}; use sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST/DB"
        )
    return parsed


def _to_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL (a no-op once it is). While another new connection switches or
    writes, SQLite may answer "locked" at once instead of waiting (its deadlock guard), so the
    switch is retried until the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, emit BEGIN, so SAVEPOINT and DDL are transactional.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class _WriterLock:
    """One writer at a time per engine on SQLite, handed over at once.

    SQLite's busy handler polls with sleeps of up to 100 ms, so under many concurrent writers of
    one process an unlucky one can miss every release until its busy timeout ends. Writers of
    the same engine therefore queue on a lock first; other processes still meet the busy
    timeout of SQLite itself.
    """

    KEY = "branchwatch_writer_lock"

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, conn: Connection) -> None:
        # A writer that starts as a reader can fail at once on SQLITE_BUSY; IMMEDIATE waits.
        if not conn.get_execution_options().get(SQLITE_IMMEDIATE, False):
            conn.exec_driver_sql("BEGIN")
            return
        if not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise OperationalError(
                "BEGIN IMMEDIATE",
                None,
                sqlite3.OperationalError("database is locked (other writers of this process)"),
            )
        conn.info[self.KEY] = self
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(conn)
            raise

    def end(self, conn: Connection) -> None:
        if conn.info.pop(self.KEY, None) is self:
            self._lock.release()


def make_engine(url: str | URL | None = None) -> Engine:
    """Create an engine tuned for the backend.

    SQLite gets WAL journaling, foreign keys and a busy timeout; PostgreSQL (psycopg 3) gets a
    connection pool whose connections are checked before use, so a restarted server is survived.

    Args:
        url: SQLAlchemy URL; defaults to :func:`default_db_url`.

    Returns:
        A new engine. Nothing is connected until first use.

    Raises:
        StoreURLError: The URL is malformed or the backend is unsupported.
    """
    parsed = parse_db_url(url if url is not None else default_db_url())
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=POOL_SIZE,
            max_overflow=POOL_MAX_OVERFLOW,
            pool_timeout=POOL_TIMEOUT_S,
        )
        writers = _WriterLock()
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", writers.begin)
        event.listen(engine, "commit", writers.end)
        event.listen(engine, "rollback", writers.end)
        return engine
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=POOL_MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_S,
        pool_recycle=PG_POOL_RECYCLE_S,
    )


def _private_file(path: Path) -> None:
    """Create a new SQLite file readable by its owner only (0600; a new folder 0700).

    SQLite gives its ``-wal`` and ``-shm`` files the permissions of the database file.
    Existing files and folders are left as they are.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def begin_write(session: Session) -> None:
    """End the session's transaction and start one that will write.

    On SQLite the new transaction takes the write lock at once (``BEGIN IMMEDIATE``), waiting
    up to the busy timeout for other writers; a transaction that read first and writes later
    could instead fail at once with "database is locked". Elsewhere it is a plain transaction.
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={SQLITE_IMMEDIATE: True})


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped inside the ``api`` package."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def head_revision() -> str:
    """Newest migration revision this branchwatch knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise SchemaError("no migrations found in api/migrations")
    return head


def _known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def _newer_schema(engine: Engine, revision: str) -> SchemaError:
    return SchemaError(
        f"database {engine.url.render_as_string()} is at schema revision {revision}, which "
        "this branchwatch does not know (made by a newer version?); upgrade branchwatch"
    )


def current_revision(engine: Engine) -> str | None:
    """Migration revision the database is at, or ``None`` for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url_or_engine: str | URL | Engine) -> str:
    """Migrate the database to the newest schema; a database already there is left alone.

    Concurrent upgrades wait for each other: on PostgreSQL through an advisory lock, on
    SQLite by taking the write lock first.

    Args:
        url_or_engine: The database to migrate.

    Returns:
        The revision the database is now at.
    """
    engine = url_or_engine if isinstance(url_or_engine, Engine) else make_engine(url_or_engine)
    config = alembic_config()
    try:
        with engine.execution_options(**{SQLITE_IMMEDIATE: True}).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            revision = MigrationContext.configure(conn).get_current_revision()
            if revision is not None and not _known_revision(revision):
                raise _newer_schema(engine, revision)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            revision = MigrationContext.configure(conn).get_current_revision()
    finally:
        if engine is not url_or_engine:
            engine.dispose()
    logger.info("database %s at revision %s", engine.url.render_as_string(), revision)
    return revision or ""


def check_schema(engine: Engine) -> None:
    """Make sure the database holds the schema this branchwatch expects, without changing it.

    Raises:
        SchemaError: The database is empty or at another revision.
    """
    current, head = current_revision(engine), head_revision()
    if current is None:
        raise SchemaError(
            f"database {engine.url.render_as_string()} holds no branchwatch data "
            "(no schema); run `branchwatch scan` or `branchwatch demo` first"
        )
    if not _known_revision(current):
        raise _newer_schema(engine, current)
    if current != head:
        raise SchemaError(
            f"database {engine.url.render_as_string()} is at schema revision {current}, "
            f"this branchwatch expects {head}; run `branchwatch scan` once to migrate it"
        )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose work commits when the block ends and rolls back if it raises.

    Args:
        engine: Engine from :func:`make_engine`.

    Yields:
        The session; objects stay readable after commit.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
