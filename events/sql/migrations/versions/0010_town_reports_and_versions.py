"""A town's reports by occurred time and its versions by recorded time, kept by the projector.

`events_town_occurred_at` and `events_town_recorded_at` served the reads
alone (a town's tail, the refolds' read-backs, a read's version), yet every
append kept them up to date: one page of each for every town it named, most
of the commit of a batch that names hundreds of towns. Their place is taken
by two tables that the projector writes a step at a time, beside the
snapshots and under the same checkpoint: `town_reports` and `town_versions`.

They are filled here from the log up to the checkpoint, so nothing is
folded again, and the two indexes go.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_AMENDMENTS = ("report.retracted", "report.corrected")


def upgrade() -> None:
    op.create_table(
        "town_reports",
        sa.Column("town", sa.String(120), nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("town", "occurred_at", "position"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "town_versions",
        sa.Column("town", sa.String(120), nullable=False),
        sa.Column("known_from", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("town", "known_from", "version"),
        sqlite_with_rowid=False,
    )
    events = sa.table(
        "events",
        sa.column("position"),
        sa.column("town"),
        sa.column("version"),
        sa.column("kind"),
        sa.column("occurred_at"),
        sa.column("recorded_at"),
    )
    checkpoints = sa.table("checkpoints", sa.column("name"), sa.column("position"))
    folded = (
        sa.select(sa.func.coalesce(sa.func.max(checkpoints.c.position), 0))
        .where(checkpoints.c.name == "snapshots")
        .scalar_subquery()
    )
    reports = sa.select(events.c.town, events.c.occurred_at, events.c.position).where(
        events.c.position <= folded, events.c.kind.not_in(_AMENDMENTS)
    )
    op.execute(
        sa.table("town_reports", sa.column("town"), sa.column("occurred_at"), sa.column("position"))
        .insert()
        .from_select(["town", "occurred_at", "position"], reports)
    )
    versions = (
        sa.select(events.c.town, events.c.recorded_at, sa.func.max(events.c.version))
        .where(events.c.position <= folded)
        .group_by(events.c.town, events.c.recorded_at)
    )
    op.execute(
        sa.table("town_versions", sa.column("town"), sa.column("known_from"), sa.column("version"))
        .insert()
        .from_select(["town", "known_from", "version"], versions)
    )
    op.drop_index("events_town_occurred_at", table_name="events")
    op.drop_index("events_town_recorded_at", table_name="events")
