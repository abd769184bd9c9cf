"""How far in valid time each town's folded facts reach, as known from when; and
indexes for the reads of a town's dead and lists.

A row of `reaches` says that no fact of its town known from `known_from` on
(until the town's next row) folds later than `occurred_at`. Reads as of a
later time search the town's snapshots and reports only up to there. Derived like the
snapshots: `sitrep rebuild` empties and refills it.

Of the two indexes, `snapshots_tolls` holds what the sum of a town's dead
takes from each snapshot, so that read walks small entries rather than the
rows with their states; `snapshots_listed` leads the join of a town's lists
to the snapshots that have any. It leaves `listed` out: PostgreSQL refuses
an index entry over 2,704 bytes, and one long agreement makes a longer one.
The tables are emptied first, so the indexes are built on nothing.

A town without rows would read as before, but a row written after the
upgrade would know nothing of the facts folded before it. So the upgrade
forgets every kept read model and moves the checkpoint back to 0, as 0007
did: the next catch-up, or `sitrep rebuild`, folds the whole log again.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reaches",
        sa.Column("town", sa.String(120), nullable=False),
        sa.Column("known_from", sa.BigInteger, nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("town", "known_from", "occurred_at"),
    )
    for table in ("snapshots", "moves", "towns", "captives_held", "captive_ledger"):
        op.execute(sa.table(table).delete())
    checkpoints = sa.table("checkpoints", sa.column("name"), sa.column("position"))
    op.execute(checkpoints.update().where(checkpoints.c.name == "snapshots").values(position=0))
    op.create_index(
        "snapshots_tolls",
        "snapshots",
        ["stream", "occurred_at", "known_from", "known_until", "low", "best", "high"],
    )
    op.create_index(
        "snapshots_listed",
        "snapshots",
        ["stream", "occurred_at", "position", "known_from", "known_until"],
        sqlite_where=sa.text("listed IS NOT NULL"),
        postgresql_where=sa.text("listed IS NOT NULL"),
    )
