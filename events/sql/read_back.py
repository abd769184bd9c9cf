"""What refolding many towns takes, read back in a handful of queries whatever their number.

When a step of the projector folds reports before some towns' newest
snapshots, each of those towns starts again from its latest snapshot that
still holds before the earliest of them. Asking town by town cost a few round
trips each, most of a bulk import's catch-up; here each kind of row comes in
one query for a chunk of towns.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import BigInteger, ScalarSelect, String, and_, column, select, tuple_, values
from sqlalchemy.engine import Connection

from events.kinds import CORRECTION_KINDS
from events.record import Record
from events.snapshots import Key, ReadBack, Snapshot
from events.sql.every_town import BEFORE_ALL, IDS_PER_QUERY, chunks, snapshot_of
from events.sql.schema import FOREVER, events, moves, snapshots, to_micros
from events.sql.store import record_of

_TOWNS_PER_QUERY = 500


def read_back(
    conn: Connection,
    starts: Mapping[str, Key],
    through: int,
    also: Mapping[str, Collection[int]],
) -> dict[str, ReadBack]:
    """For each town of `starts`: its base snapshot and the records up to `through` after it."""
    bases: dict[str, Snapshot] = {}
    for chunk in chunks(sorted(starts), _TOWNS_PER_QUERY):
        rows = [(town, to_micros(starts[town][0]), starts[town][1]) for town in chunk]
        bases.update(
            (row.stream, snapshot_of(row, row.stream)) for row in conn.execute(_bases(rows))
        )
    found: dict[int, Record] = {}
    for chunk in chunks(sorted(starts), _TOWNS_PER_QUERY):
        since = [(town, _since(bases.get(town))) for town in chunk]
        for query in (_reports(since, through), _moved(since, through)):
            for row in conn.execute(query):
                found.setdefault(row.position, record_of(row))
    wanted = sorted({position for town in starts for position in also.get(town, ())})
    for positions in chunks(wanted, IDS_PER_QUERY):
        query = select(events).where(events.c.position.in_(positions))
        for row in conn.execute(query.where(events.c.position <= through)):
            found.setdefault(row.position, record_of(row))
    for ids in chunks([record.id for record in found.values()], IDS_PER_QUERY):
        query = select(events).where(events.c.target.in_(ids), events.c.position <= through)
        for row in conn.execute(query):
            found.setdefault(row.position, record_of(row))
    records: dict[str, list[Record]] = {town: [] for town in starts}
    for record in found.values():
        if record.town in records:
            records[record.town].append(record)
    return {town: ReadBack(bases.get(town), records[town]) for town in starts}


def _bases(rows: list[tuple[str, int, int]]) -> Any:
    """Each town's latest snapshot that still holds with a key below the town's start."""
    start = _values(
        rows, column("town", String), column("occurred", BigInteger), column("at", BigInteger)
    )
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


def _reports(since: list[tuple[str, int]], through: int) -> Any:
    """The reports of each town that occurred from its base's time on."""
    start = _values(since, column("town", String), column("since", BigInteger))
    return (
        select(events)
        .select_from(start.join(events, events.c.town == start.c.town))
        .where(
            events.c.occurred_at >= start.c.since,
            events.c.position <= through,
            events.c.kind.not_in(sorted(CORRECTION_KINDS)),
        )
    )


def _moved(since: list[tuple[str, int]], through: int) -> Any:
    """The reports of each town that a correction moved to its base's time or later."""
    start = _values(since, column("town", String), column("since", BigInteger))
    return (
        select(events)
        .select_from(
            start.join(moves, moves.c.town == start.c.town).join(
                events, events.c.position == moves.c.position
            )
        )
        .where(
            moves.c.occurred_at >= start.c.since,
            events.c.town == start.c.town,
            events.c.position <= through,
        )
    )


def _values(rows: list[Any], *columns: Any) -> Any:
    return values(*columns, name="start").data(rows).cte("start")


def _since(base: Snapshot | None) -> int:
    return BEFORE_ALL if base is None else to_micros(base.key[0])
