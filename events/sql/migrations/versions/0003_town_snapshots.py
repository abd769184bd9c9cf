"""Town snapshots beside the log, the moves corrections make, the towns, and a checkpoint.

Unlike the log, these tables are derived: `sitrep rebuild` empties and refills
them from the events.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FOREVER = 2**63 - 1


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("stream", sa.String(120), nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("known_from", sa.BigInteger, nullable=False),
        sa.Column("known_until", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("stream", "occurred_at", "position", "known_from"),
    )
    op.create_table(
        "moves",
        sa.Column("town", sa.String(120), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column("known_from", sa.BigInteger, nullable=False),
    )
    op.create_index("moves_town_occurred_at", "moves", ["town", "occurred_at"])
    op.create_index("moves_town_position", "moves", ["town", "position"])
    op.create_table(
        "checkpoints",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO checkpoints (name, position) VALUES ('snapshots', 0)")
    op.create_table(
        "towns",
        sa.Column("town", sa.String(120), primary_key=True),
        sa.Column("first_known", sa.BigInteger, nullable=False),
    )
    op.create_index("events_town_occurred_at", "events", ["town", "occurred_at", "position"])
    op.create_index("events_town_recorded_at", "events", ["town", "recorded_at", "version"])
