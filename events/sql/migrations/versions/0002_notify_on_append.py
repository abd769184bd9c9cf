"""PostgreSQL: NOTIFY `sitrep_events` with the last position whenever events are appended.

The live feed LISTENs to wake up at once instead of waiting for its next poll.
SQLite has no such channel: its readers poll.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION events_notify_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sitrep_events', (SELECT max(position) FROM appended)::text);
    RETURN NULL;
END $$
"""
_TRIGGER = (
    "CREATE TRIGGER events_notify_append AFTER INSERT ON events "
    "REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION events_notify_append()"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)
        op.execute(_TRIGGER)
