"""The store: SQLAlchemy tables, engine and session helpers, migrations (``api/migrations``)."""
