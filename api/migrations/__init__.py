"""Alembic migrations of the store; run them with :func:`api.db.session.upgrade`."""
