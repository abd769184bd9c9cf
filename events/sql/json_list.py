"""`column IN (the values of one JSON array parameter)`, in each dialect's words.

An `IN` of a bound parameter a value (SQLAlchemy's expanding parameters) is
rendered again for every execution, and psycopg parses the long statement
again each time: for the append path's lookups of a batch of 1,000 that cost
more than the queries took to run. One JSON array parameter keeps the
statement the same whatever the number of values, so it is compiled once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import BindParameter, ColumnElement, Subquery, bindparam, column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, String, Text, TypeEngine


class InJsonList(ColumnElement[Any]):
    """Whether `column` is one of the values of the JSON array bound as `name`."""

    # Typed as nothing: a Boolean would be compared with 1 on SQLite, and lose its index.
    type: TypeEngine[Any] = NullType()
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("parameter", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.parameter: BindParameter[str] = bindparam(name, type_=Text())


def in_json_list(column: ColumnElement[Any], name: str) -> InJsonList:
    """`column IN (…)` of the values bound to `name` with `json_list`."""
    return InJsonList(column, name)


_VALUES = {
    "sqlite": "SELECT value AS {0} FROM json_each(:{1})",
    "postgresql": "SELECT value AS {0} FROM jsonb_array_elements_text(CAST(:{1} AS JSONB))",
}


def json_values(dialect: str, name: str, as_column: str) -> Subquery:
    """The strings of the JSON array bound as `name` as a table of one column, `as_column`.

    For a query that asks something of each value apart, as a correlated
    subquery can, rather than of all the rows that match any of them.
    """
    table = text(_VALUES[dialect].format(as_column, name))
    return table.columns(column(as_column, String())).subquery(f"{name}_values")


def json_list(values: Iterable[uuid.UUID | str | int]) -> str:
    """The values as the one parameter an `in_json_list` takes (UUIDs as 32 hex digits)."""
    return orjson.dumps([v.hex if isinstance(v, uuid.UUID) else v for v in values]).decode()


@compiles(InJsonList)  # SQLite's words also for str(statement), where no dialect is given
@compiles(InJsonList, "sqlite")
def _in_sqlite(element: InJsonList, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy's Uuid keeps a UUID on SQLite as its 32 hex digits, as json_list sends it.
    # What is joined here is compiled SQL: the values travel in the bound parameter.
    column = compiler.process(element.column, **kw)
    parameter = compiler.process(element.parameter, **kw)
    return f"{column} IN (SELECT value FROM json_each({parameter}))"  # noqa: S608


@compiles(InJsonList, "postgresql")
def _in_postgres(element: InJsonList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    parameter = compiler.process(element.parameter, **kw)
    # A string is cast to TEXT, not the column's VARCHAR(n), which would cut it to fit.
    column_type = element.column.type
    sql_type = (
        "TEXT"
        if isinstance(column_type, String)
        else compiler.dialect.type_compiler_instance.process(column_type)
    )
    # = ANY of an array computed once, not IN a subquery: the planner guessed 100
    # rows for the function's and scanned the whole log to join them.
    return (
        f"{column} = ANY(ARRAY(SELECT CAST(value AS {sql_type}) "  # noqa: S608 - compiled SQL
        f"FROM jsonb_array_elements_text(CAST({parameter} AS JSONB))))"
    )
