"""`group_names`: the captive groups each captive report and correction names.

An amendment of an old captive report folds again only the groups it
touches, and the reports that name them; finding those read the stored key
and body of every captive report after it, and every amendment of one. The
appends now write, beside each captive report and each correction, a row
for every group it names (a correction's for the report it corrects), so
they are found by the groups' names. The rows of the log already stored are
written here from their bodies, as the code of this revision wrote them:
`group` and `new_group`, of a report or of a correction's `replacement`.
Nothing derived changes, so nothing is folded again.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_REPORTS = (
    "captives.taken",
    "captives.transferred",
    "captives.released",
    "captives.killed",
)
_FIELDS = ("group", "new_group")
_PAGE = 10_000


def upgrade() -> None:
    names = op.create_table(
        "group_names",
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=True),
        sa.Column("report", sa.Uuid, nullable=False),
        sa.PrimaryKeyConstraint("name", "position"),
        sqlite_with_rowid=False,
    )
    events = sa.table(
        "events",
        sa.column("position", sa.BigInteger),
        sa.column("id", sa.Uuid),
        sa.column("kind", sa.String),
        sa.column("occurred_at", sa.BigInteger),
        sa.column("target", sa.Uuid),
        sa.column("body", sa.Text),
    )
    naming = (
        sa.select(events)
        .where(
            events.c.kind.in_([*_REPORTS, "report.corrected"]),
            events.c.position > sa.bindparam("after"),
        )
        .order_by(events.c.position)
        .limit(_PAGE)
    )
    bind = op.get_bind()
    after = 0
    while page := bind.execute(naming, {"after": after}).all():
        rows = [row for record in page for row in _rows(record)]
        if rows:
            bind.execute(sa.insert(names), rows)
        after = page[-1].position


def _rows(record: Any) -> list[dict[str, Any]]:
    body = orjson.loads(record.body)
    if record.kind == "report.corrected":
        fields, report, occurred_at = body.get("replacement") or {}, record.target, None
    else:
        fields, report, occurred_at = body, record.id, record.occurred_at
    named = sorted({value for name in _FIELDS if isinstance(value := fields.get(name), str)})
    return [
        {"name": name, "position": record.position, "occurred_at": occurred_at, "report": report}
        for name in named
    ]
