"""A field of the stored body as SQL, and the indexes that lead from a captive group to its reports.

A captive report names its groups in its body (`group`, `new_group`), and a
correction names them in its replacement. Four partial indexes of the log on
those fields let an amendment of an old captive report find the few reports
that name its groups, rather than read every captive report after it.

Each index is partial on the kinds that carry the field, so an append of any
other kind pays nothing for it. SQLite uses a partial index only when the
query holds the very same term as the index's `WHERE`, so both are built
here from one literal term, never a bound parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Index
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, Text, TypeEngine

from events.kinds import CAPTIVE_KINDS, GROUP_FIELDS


class BodyField(ColumnElement[str]):
    """The text at `path` (keys from the top) of the `body` column's JSON; NULL if there is none."""

    type: TypeEngine[str] = Text()
    inherit_cache = True
    _traverse_internals = [("path", InternalTraversal.dp_string_list)]

    def __init__(self, *path: str) -> None:
        assert all(key.isidentifier() for key in path), path  # joined into SQL below
        self.path = list(path)


@compiles(BodyField)  # SQLite's words also for str(statement), where no dialect is given
@compiles(BodyField, "sqlite")
def _field_sqlite(element: BodyField, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract(body, '$.{'.'.join(element.path)}')"


@compiles(BodyField, "postgresql")
def _field_postgres(element: BodyField, compiler: SQLCompiler, **kw: Any) -> str:
    *through, last = element.path
    value = "CAST(body AS JSONB)"
    for key in through:  # bracketed as PostgreSQL shows the index, for Alembic to compare
        value = f"({value} -> '{key}')"
    return f"({value} ->> '{last}')"


class KindIn(ColumnElement[Any]):
    """`kind IN (…)` of these kinds, written out: the `WHERE` of a partial index, and a query's.

    On SQLite it reads `+kind`: the unary plus keeps the planner from taking
    `events_kind_position` for it, which it did on a small log, reading every
    captive report; the partial index still matches the very same term.
    """

    # Typed as nothing: a Boolean would be compared with 1 on SQLite, and match no index.
    type: TypeEngine[Any] = NullType()
    inherit_cache = True
    _traverse_internals = [("kinds", InternalTraversal.dp_string_list)]

    def __init__(self, kinds: Iterable[str]) -> None:
        self.kinds = sorted(kinds)
        assert all(kind.replace(".", "_").isidentifier() for kind in self.kinds), self.kinds


def _kinds(element: KindIn) -> str:
    return ", ".join(f"'{kind}'" for kind in element.kinds)


@compiles(KindIn)
@compiles(KindIn, "sqlite")
def _kind_in_sqlite(element: KindIn, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+kind IN ({_kinds(element)})"


@compiles(KindIn, "postgresql")
def _kind_in_postgres(element: KindIn, compiler: SQLCompiler, **kw: Any) -> str:
    return f"kind IN ({_kinds(element)})"


NAMING_KINDS = frozenset(CAPTIVE_KINDS - {"remains.handed_over"})
"""The captive kinds whose reports name a group."""

CAPTIVE_NAMING = KindIn(NAMING_KINDS)
"""The term a query of reports by the groups they name holds, as its indexes do."""

CORRECTIONS = KindIn(["report.corrected"])
"""The term a query of corrections by the groups their replacements name holds."""

REPORT_FIELDS = {name: BodyField(name) for name in GROUP_FIELDS}
"""Each field by which a report names a group."""

REPLACEMENT_FIELDS = {name: BodyField("replacement", name) for name in GROUP_FIELDS}
"""Each field by which a correction's replacement names a group."""


def group_indexes(occurred_at: ColumnElement[Any], position: ColumnElement[Any]) -> list[Index]:
    """The indexes of the log on the groups its reports and corrections name."""
    return [
        *(
            Index(
                f"events_{name}",
                field,
                occurred_at,
                position,
                sqlite_where=CAPTIVE_NAMING,
                postgresql_where=CAPTIVE_NAMING,
            )
            for name, field in REPORT_FIELDS.items()
        ),
        *(
            Index(
                f"events_replacement_{name}",
                field,
                position,
                sqlite_where=CORRECTIONS,
                postgresql_where=CORRECTIONS,
            )
            for name, field in REPLACEMENT_FIELDS.items()
        ),
    ]
