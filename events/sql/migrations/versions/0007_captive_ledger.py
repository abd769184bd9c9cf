"""The captive ledger kept as bitemporal entries, so a read of it replays nothing.

Each captive group's state, and each entry of remains handed over or of an
anomaly across groups, is a row from the fact that made it, as known from
when it was folded, like the rows of captives held. Derived like the
snapshots: `sitrep rebuild` empties and refills it.

The entries of what was folded before this revision are not there, so the
upgrade forgets every kept read model and moves the checkpoint back to 0:
the next catch-up, or `sitrep rebuild`, folds the whole log again.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "captive_ledger",
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("known_from", sa.BigInteger, nullable=False),
        sa.Column("known_until", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", "occurred_at", "position", "known_from"),
    )
    op.create_index(
        "captive_ledger_open", "captive_ledger", ["known_until", "occurred_at", "position"]
    )
    for table in ("snapshots", "moves", "towns", "captives_held"):
        op.execute(sa.table(table).delete())
    checkpoints = sa.table("checkpoints", sa.column("name"), sa.column("position"))
    op.execute(checkpoints.update().where(checkpoints.c.name == "snapshots").values(position=0))
