"""Database fixtures: every DB test runs against SQLite and a real PostgreSQL server.

* ``db_backend``: ``"sqlite"`` or ``"postgresql"`` (the parametrisation point).
* ``db_url`` / ``engine``: one migrated database per backend and test session. On PostgreSQL
  it is a schema with a random name in the ``test`` database, dropped at the end, so parallel
  or repeated runs and other data in ``test`` are never touched.
* ``session``: a session inside a connection-level transaction that is rolled back after the
  test; the code under test may commit (it releases a SAVEPOINT).
* ``fresh_db_url``: an empty, unmigrated database of its own, for tests that migrate, or
  commit through engines they create (CLI commands); ``new_db_url`` makes more (any scope).

PostgreSQL comes from ``BRANCHWATCH_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). If it does not answer the PostgreSQL
tests fail (never skip): CI must exercise both backends.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.db.session import make_engine, upgrade

PG_URL_ENV = "BRANCHWATCH_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_HOWTO = (
    "Start one on Debian with: apt-get install -y postgresql && "
    "pg_ctlcluster $(ls /etc/postgresql) main start && "
    "su postgres -c \"psql -c 'CREATE DATABASE test'\" (trust auth for 127.0.0.1 in "
    "pg_hba.conf), or point {env} at a server you may create schemas in."
)


def pg_base_url() -> str:
    """URL of the PostgreSQL server the tests use."""
    return os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)


def _with_search_path(url: str, schema: str) -> str:
    return (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


class _PgSchemas:
    """Creates throw-away schemas in the test database and drops them all at the end."""

    def __init__(self) -> None:
        self.admin = make_engine(pg_base_url())
        reason = None
        try:
            with self.admin.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0]
        if reason is not None:
            self.admin.dispose()
            pytest.fail(
                f"PostgreSQL at {pg_base_url()} is unreachable ({reason}). "
                + PG_HOWTO.format(env=PG_URL_ENV),
                pytrace=False,
            )
        self.schemas: list[str] = []
        self._drop_orphans()

    def _drop_orphans(self) -> None:
        """Drop schemas of killed local test runs (their process no longer exists)."""
        local = make_url(pg_base_url()).host in (None, "", "127.0.0.1", "localhost", "::1")
        if not local or not Path("/proc/self").exists():
            return
        with self.admin.begin() as conn:
            names = list(
                conn.execute(
                    text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bw\\_test\\_%'")
                ).scalars()
            )
        for name in names:
            pid = name.split("_")[2]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                with self.admin.begin() as conn:  # one transaction each (see drop_all)
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))

    def new(self) -> str:
        schema = f"bw_test_{os.getpid()}_{secrets.token_hex(4)}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        return _with_search_path(pg_base_url(), schema)

    def drop_all(self) -> None:
        # One transaction per schema: dropping them all at once takes a lock per table of
        # every schema and runs out of the server's lock table (max_locks_per_transaction).
        for schema in self.schemas:
            with self.admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def db_backend(request: pytest.FixtureRequest) -> str:
    """Name of the database backend the test runs against."""
    backend: str = request.param
    return backend


@pytest.fixture(scope="session")
def _pg_schemas() -> Iterator[_PgSchemas]:
    schemas = _PgSchemas()
    yield schemas
    schemas.drop_all()


@pytest.fixture(scope="session")
def new_db_url(
    db_backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[[], str]]:
    """Factory of empty databases of the current backend."""
    if db_backend == "sqlite":
        root = tmp_path_factory.mktemp("sqlite")

        def new_sqlite() -> str:
            return f"sqlite:///{root / (secrets.token_hex(4) + '.db')}"

        yield new_sqlite
        return
    pg: _PgSchemas = request.getfixturevalue("_pg_schemas")
    yield pg.new


@pytest.fixture(scope="session")
def db_url(new_db_url: Callable[[], str]) -> str:
    """URL of the migrated database shared by this test session (per backend)."""
    url = new_db_url()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """Engine on :func:`db_url`."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work, commits included, is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        sess = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield sess
        finally:
            sess.close()
            outer.rollback()


@pytest.fixture
def fresh_db_url(new_db_url: Callable[[], str]) -> str:
    """URL of an empty database of its own (not migrated)."""
    return new_db_url()


# --- the demo run, shared by the tests that read its output -----------------------------


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run ``branchwatch demo`` once (real footage, real model) and return its folder and
    what it printed on stdout."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("demo") / "branchwatch-demo"
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, f"demo failed:\n{proc.stdout}\n{proc.stderr}"
    # Progress and results go to stdout (``demo > log`` keeps them); stderr is for problems.
    assert "Traceback" not in proc.stderr, proc.stderr
    return out, proc.stdout


# --- the evaluation on the committed labelled set, shared by the CLI and notebook tests ----


@pytest.fixture(scope="session")
def eval_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run ``branchwatch eval eval/labels.yaml`` once (real clips, real model) and return its
    JSON file and its console output."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("eval") / "eval.json"
    labels = Path(__file__).resolve().parents[1] / "eval" / "labels.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "eval", str(labels), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, f"eval failed:\n{proc.stdout}\n{proc.stderr}"
    return out, proc.stdout + proc.stderr
