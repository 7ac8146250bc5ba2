"""The complete schema: every table module imported, so Alembic and checks see all tables.

Import :data:`metadata` from here (not from one models module) wherever all tables matter:
the migration environment and the test that migrations and models agree.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from api.db import auth_models, loop_models, models

TABLE_MODULES = (models, auth_models, loop_models)
"""Modules that declare tables on :class:`api.db.models.Base`; add new ones here."""

metadata: MetaData = models.Base.metadata
