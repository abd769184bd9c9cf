"""What refolding many towns takes, read back in a handful of queries whatever their number.

When a step of the projector folds reports before what it keeps of some
towns, each of those towns starts again from its latest snapshot that still
holds before the earliest of them, and needs the snapshots after it to see
where its refold may stop. Asking town by town cost a few round trips each,
most of a bulk import's catch-up; here each kind of row comes in one query
for a chunk of towns.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    CTE,
    BigInteger,
    ScalarSelect,
    Select,
    String,
    and_,
    bindparam,
    column,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.engine import Connection

from events.record import Record
from events.snapshots import Key, ReadBack, Snapshot
from events.sql.every_town import (
    BEFORE_ALL,
    IDS_PER_QUERY,
    chunks,
    each_town,
    reports_within,
    snapshot_of,
)
from events.sql.schema import FOREVER, events, moves, snapshots, to_micros
from events.sql.store import record_of

_TOWNS_PER_QUERY = 500
"""Towns per query: the rows of a chunk travel as one JSON parameter."""
_LAST = 2**63 - 1


def read_back(
    conn: Connection,
    starts: Mapping[str, Key],
    through: int,
    also: Mapping[str, Collection[int]],
    ahead: int | None = None,
) -> dict[str, ReadBack]:
    """For each town of `starts`: its base snapshot, the `ahead` after it, the records between.

    With `ahead` None, every snapshot after the base and every record to the
    town's end, up to position `through`.
    """
    dialect = conn.dialect.name
    bases: dict[str, Snapshot] = {}
    later: dict[str, list[Snapshot]] = {town: [] for town in starts}
    for chunk in chunks(sorted(starts), _TOWNS_PER_QUERY):
        rows = _json([(town, to_micros(starts[town][0]), starts[town][1]) for town in chunk])
        for row in conn.execute(_bases(dialect), {"rows": rows}):
            bases[row.stream] = snapshot_of(row, row.stream)
        query = _later(dialect, whole=ahead is None)
        for row in conn.execute(query, {"rows": rows, "ahead": ahead or 0}):
            later[row.stream].append(snapshot_of(row, row.stream))
    whole = {town: ahead is None or len(later[town]) <= ahead for town in starts}
    for town in starts:
        later[town].sort(key=_key)
        if not whole[town]:
            del later[town][ahead:]
    found: dict[int, Record] = {}
    for chunk in chunks(sorted(starts), _TOWNS_PER_QUERY):
        spans = _json(
            [
                (
                    town,
                    _since(bases.get(town)),
                    _LAST if whole[town] else to_micros(later[town][-1].key[0]),
                )
                for town in chunk
            ]
        )
        for build in (_reports, _moved):
            for row in conn.execute(build(dialect), {"rows": spans, "through": through}):
                found.setdefault(row.position, record_of(row))
    wanted = sorted({position for town in starts for position in also.get(town, ())})
    for positions in chunks(wanted, IDS_PER_QUERY):
        for row in conn.execute(_AT_POSITIONS, {"positions": positions, "through": through}):
            found.setdefault(row.position, record_of(row))
    for ids in chunks([record.id for record in found.values()], IDS_PER_QUERY):
        for row in conn.execute(_AMENDING, {"ids": ids, "through": through}):
            found.setdefault(row.position, record_of(row))
    records: dict[str, list[Record]] = {town: [] for town in starts}
    for record in found.values():
        if record.town in records:
            records[record.town].append(record)
    return {
        town: ReadBack(bases.get(town), records[town], later[town], whole[town]) for town in starts
    }


_AT_POSITIONS = select(events).where(
    events.c.position.in_(bindparam("positions", expanding=True)),
    events.c.position <= bindparam("through"),
)
_AMENDING = select(events).where(
    events.c.target.in_(bindparam("ids", expanding=True)),
    events.c.position <= bindparam("through"),
)


def _json(rows: list[tuple[str, int, int]]) -> str:
    """The rows of a chunk as the one parameter its queries take."""
    return orjson.dumps(rows).decode()


_ROWS = {
    "sqlite": (
        "SELECT json_extract(value, '$[0]') AS {0}, json_extract(value, '$[1]') AS {1}, "
        "json_extract(value, '$[2]') AS {2} FROM json_each(:rows)"
    ),
    "postgresql": (
        "SELECT row_->>0 AS {0}, CAST(row_->>1 AS BIGINT) AS {1}, CAST(row_->>2 AS BIGINT) "
        "AS {2} FROM jsonb_array_elements(CAST(:rows AS JSONB)) AS row_"
    ),
}
"""A JSON array of rows of three as a table, in each dialect's words."""


def _rows(dialect: str, *names: str) -> CTE:
    """The rows of the bound JSON array `rows` as a CTE with the columns `names`.

    One parameter whatever the number of rows, so each query is built and
    compiled once. With a bound parameter for each value, compiling took time
    that grew with the square of the rows: a third of a second for 256.
    """
    first, second, third = names
    table = text(_ROWS[dialect].format(*names))
    return table.columns(
        column(first, String()), column(second, BigInteger()), column(third, BigInteger())
    ).cte("start")


@lru_cache
def _bases(dialect: str) -> Select[Any]:
    """Each town's latest snapshot that still holds with a key below the town's start."""
    start = _rows(dialect, "town", "occurred", "at")
    keys = select(
        start.c.town,
        _latest(start, snapshots.c.occurred_at).label("occurred_at"),
        _latest(start, snapshots.c.position).label("position"),
    ).cte("base_keys")
    # Computed first, so PostgreSQL joins on their values through the primary key
    # rather than scanning every snapshot to test the subqueries row by row.
    keys = keys.prefix_with("MATERIALIZED", dialect="postgresql")
    base = and_(
        snapshots.c.stream == keys.c.town,
        snapshots.c.occurred_at == keys.c.occurred_at,
        snapshots.c.position == keys.c.position,
    )
    query = select(snapshots).select_from(keys.join(snapshots, base))
    return query.where(snapshots.c.known_until == FOREVER)


def _latest(start: Any, column_: Any) -> ScalarSelect[Any]:
    inner = snapshots.alias("inner")
    below = tuple_(inner.c.occurred_at, inner.c.position) < tuple_(start.c.occurred, start.c.at)
    return (
        select(inner.c[column_.name])
        .where(inner.c.stream == start.c.town, inner.c.known_until == FOREVER, below)
        .order_by(inner.c.occurred_at.desc(), inner.c.position.desc())
        .limit(1)
        .scalar_subquery()
    )


@lru_cache
def _later(dialect: str, whole: bool) -> Select[Any]:
    """Each town's snapshots that still hold from its start key on: the first `ahead` and one.

    The `ahead`-and-one-th is found through the primary key, so a read back
    near a town's start costs the same however long its history is. `whole`:
    every one of them.
    """
    start = _rows(dialect, "town", "occurred", "at")
    from_start = tuple_(snapshots.c.occurred_at, snapshots.c.position) >= tuple_(
        start.c.occurred, start.c.at
    )
    if whole:
        open_ = select(snapshots).where(
            snapshots.c.stream == start.c.town, from_start, snapshots.c.known_until == FOREVER
        )
        return each_town(dialect, start, open_)
    inner = snapshots.alias("inner")
    nth = (
        select(inner.c.occurred_at)
        .where(
            inner.c.stream == start.c.town,
            inner.c.known_until == FOREVER,
            tuple_(inner.c.occurred_at, inner.c.position) >= tuple_(start.c.occurred, start.c.at),
        )
        .order_by(inner.c.occurred_at, inner.c.position)
        .limit(1)
        .offset(bindparam("ahead", type_=BigInteger()))
        .scalar_subquery()
    )
    bounds = select(
        start.c.town, start.c.occurred, start.c.at, func.coalesce(nth, _LAST).label("until")
    ).cte("bounds")
    # Computed first, as in `_bases`, so PostgreSQL runs the subquery once a town.
    bounds = bounds.prefix_with("MATERIALIZED", dialect="postgresql")
    span = and_(
        snapshots.c.stream == bounds.c.town,
        tuple_(snapshots.c.occurred_at, snapshots.c.position)
        >= tuple_(bounds.c.occurred, bounds.c.at),
        snapshots.c.occurred_at <= bounds.c.until,
    )
    query = select(snapshots).select_from(bounds.join(snapshots, span))
    return query.where(snapshots.c.known_until == FOREVER)


@lru_cache
def _reports(dialect: str) -> Select[Any]:
    """The reports of each town that occurred within its span of time."""
    span = _rows(dialect, "town", "since", "until")
    reports = reports_within(span.c.town, span.c.since, span.c.until, bindparam("through"))
    return each_town(dialect, span, reports)


@lru_cache
def _moved(dialect: str) -> Select[Any]:
    """The reports of each town that a correction moved into its span of time."""
    span = _rows(dialect, "town", "since", "until")
    moved = (
        select(events)
        .select_from(moves.join(events, events.c.position == moves.c.position))
        .where(
            moves.c.town == span.c.town,
            moves.c.occurred_at >= span.c.since,
            moves.c.occurred_at <= span.c.until,
            events.c.town == span.c.town,
            events.c.position <= bindparam("through"),
        )
    )
    return each_town(dialect, span, moved)


def _key(snapshot: Snapshot) -> Key:
    return snapshot.key


def _since(base: Snapshot | None) -> int:
    return BEFORE_ALL if base is None else to_micros(base.key[0])
