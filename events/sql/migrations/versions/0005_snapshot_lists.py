"""Snapshots keep what only grows with history (agreements, statistics, anomalies) apart.

A snapshot's `state` now holds those lists emptied, and `listed` only what the
reports since the stream's previous snapshot added, so a snapshot's size no
longer grows with its town's history. Snapshots written before this hold the
whole lists in `state` and no `listed`: read the new way, they still give the
same state, so they stay, and the snapshots folded after them are small.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("listed", sa.Text, nullable=True))
