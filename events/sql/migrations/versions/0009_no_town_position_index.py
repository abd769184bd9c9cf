"""The index of each town's records by position goes: its versions order them the same.

Within a town, `version` counts its records in the order of their
positions, so `events_town_version_key` (the unique index the appends
already need) walks a town's stream in that order. `events_town_position`
only ever served that walk, and every append paid to keep it: about a
seventh of the time of an append of 1,000 to an SQLite log of 100k events.

Nothing derived changes, so nothing is folded again.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("events_town_position", table_name="events")
