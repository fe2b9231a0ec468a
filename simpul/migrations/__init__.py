"""Alembic migrations for every package's tables (one history, one ``Base.metadata``)."""
