"""The Alembic revisions in api/migrations agree with api/db/models.py on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, inspect

from api.db.schema import metadata
from api.db.session import alembic_config, current_revision, make_engine, upgrade


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migrations_have_one_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert _diff(engine) == []


def test_schema_changes_are_detected(engine: Engine) -> None:
    """The comparison is not vacuous: a column the migrations lack shows up."""
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["events"].append_column(Column("extra", Integer, nullable=True))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), changed)
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "events", "extra")]


def test_downgrade_to_base_and_back(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    try:
        head = upgrade(engine)
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert upgrade(engine) == head
        assert _diff(engine) == []
    finally:
        engine.dispose()
