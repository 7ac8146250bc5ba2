"""Alembic environment: migrates the connection handed over by ``api.db.session.upgrade``.

Run from the command line (``alembic -c alembic.ini ...``) it connects to
``sqlalchemy.url`` from the ini file, else to ``BRANCHWATCH_DB`` or ``./branchwatch.db``.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from api.db.models import UTCDateTime
from api.db.schema import metadata
from api.db.session import default_db_url, make_engine

logger = logging.getLogger(__name__)


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write ``UTCDateTime`` columns as plain ``sa.DateTime(timezone=True)`` in revisions."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the given connection, or one opened from the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or default_db_url()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("branchwatch migrations run online only; give a database URL")
run_migrations_online()
