"""The append-only event log and the API keys.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_GUARD = (
    "CREATE TRIGGER events_append_only_{verb} BEFORE {verb} ON events "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"
)
_POSTGRES_GUARD_FUNCTION = (
    "CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the event log is append-only'; END $$"
)
_POSTGRES_GUARD = (
    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
    "ON events FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()"
)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("id", sa.Uuid, nullable=False, unique=True),
        sa.Column("town", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("schema_version", sa.SmallInteger, nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.BigInteger, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("target", sa.Uuid, nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("town", "version", name="events_town_version_key"),
    )
    op.create_index("events_town_position", "events", ["town", "position"])
    op.create_index("events_kind_position", "events", ["kind", "position"])
    op.create_index("events_target", "events", ["target"])
    op.create_index("events_recorded_at", "events", ["recorded_at"])
    op.create_table(
        "api_keys",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_GUARD_FUNCTION)
        op.execute(_POSTGRES_GUARD)
    else:
        op.execute(_SQLITE_GUARD.format(verb="UPDATE"))
        op.execute(_SQLITE_GUARD.format(verb="DELETE"))
