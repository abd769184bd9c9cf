"""Indexes of the log on the captive groups its reports and corrections name.

An amendment of an old captive report folds again only the groups it
touches, and the reports that name them; finding those read the stored key
and body of every captive report after it, and every amendment of one. Four
partial indexes on the body's group fields (events.sql.body_fields) lead to
them instead. Nothing derived changes, so nothing is folded again.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

from events.sql.schema import events

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_NAMES = (
    "events_group",
    "events_new_group",
    "events_replacement_group",
    "events_replacement_new_group",
)


def upgrade() -> None:
    bind = op.get_bind()
    found = [index for index in events.indexes if index.name in _NAMES]
    assert len(found) == len(_NAMES), found
    for index in found:
        index.create(bind)
