"""Alembic migrations of the sitrep schema, for SQLite and PostgreSQL alike."""
