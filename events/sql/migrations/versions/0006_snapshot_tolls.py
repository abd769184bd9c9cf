"""Snapshots keep the dead their facts added apart, as they keep the lists since 0005.

A snapshot's `state` now holds no sum of the dead; `low`, `best` and `high`
hold what the facts since the stream's previous snapshot added, and a read
sums them. So a late report changes only its own snapshot's figures, and a
refold can stop at the next snapshot that says the same as before. Snapshots
written before this hold the whole sum in `state` and zeros here: read the
new way, and folded on from, they still give the same state, so they stay.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        for name in ("low", "best", "high"):
            batch.add_column(sa.Column(name, sa.BigInteger, nullable=False, server_default="0"))
