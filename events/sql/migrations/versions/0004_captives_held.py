"""How many captives each town held, as bitemporal rows kept from the captive ledger.

Derived like the snapshots: `sitrep rebuild` empties and refills it.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "captives_held",
        sa.Column("town", sa.String(120), nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("known_from", sa.BigInteger, nullable=False),
        sa.Column("known_until", sa.BigInteger, nullable=False),
        sa.Column("held", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("town", "occurred_at", "position", "known_from"),
    )
    op.create_index(
        "captives_held_open", "captives_held", ["known_until", "occurred_at", "position"]
    )
