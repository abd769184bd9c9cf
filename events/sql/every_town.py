"""What reading towns at one moment takes, in a handful of queries whatever their number.

The queries run in one transaction that sees one state of the database, and
read the log only up to the checkpoint the snapshots reflect: a record
committed meanwhile, or not yet folded, is left out whole rather than half.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import (
    CTE,
    BigInteger,
    ScalarSelect,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    select,
    true,
)
from sqlalchemy.engine import Connection

from events.record import Record
from events.snapshots import NO_TOLL, Snapshot, TownRead
from events.sql.schema import (
    FOREVER,
    SNAPSHOTS_CHECKPOINT,
    captives_held,
    checkpoints,
    events,
    from_micros,
    moves,
    reaches,
    snapshots,
    to_micros,
    town_reports,
    town_versions,
    towns,
)
from events.sql.store import record_of

BEFORE_ALL = -(2**62)
"""Before every occurred time, in microseconds: where a town without a snapshot starts."""

IDS_PER_QUERY = 1_000
_T = TypeVar("_T")


def read_towns(
    conn: Connection, as_of: datetime, known_at: datetime, town: str | None = None
) -> list[TownRead]:
    """For each town known at `known_at` (or just `town`): snapshot, tail, version, held."""
    statements = _Statements.built(town is not None, conn.dialect.name)
    through = conn.execute(CHECKPOINT).scalar_one()
    moment = {"as_of": to_micros(as_of), "known_at": to_micros(known_at), "through": through}
    params = {**moment, "town": town}
    heads = conn.execute(statements.heads, params).all()
    found: dict[int, Record] = {}
    for row in conn.execute(statements.reports, params):
        found.setdefault(row.position, record_of(row))
    for row in conn.execute(statements.moved, params):
        found.setdefault(row.position, record_of(row))
    for ids in chunks([record.id for record in found.values()], IDS_PER_QUERY):
        for row in conn.execute(_AMENDMENTS, {**moment, "ids": ids}):
            found.setdefault(row.position, record_of(row))
    tails: dict[str, list[Record]] = {head.town: [] for head in heads}
    for record in found.values():
        tails[record.town].append(record)
    listed: dict[str, list[str]] = {}
    for row in conn.execute(statements.listed, params):
        listed.setdefault(row.stream, []).append(row.listed)
    tolls = {
        row.stream: (row.low, row.best, row.high) for row in conn.execute(statements.tolls, params)
    }
    return [
        TownRead(
            head.town,
            _snapshot(head),
            tails[head.town],
            head.version or 0,
            head.held or 0,
            tuple(listed.get(head.town, ())),
            tolls.get(head.town, NO_TOLL),
        )
        for head in heads
    ]


# The statements are built once, with the read's moment as bound parameters:
# building one costs more than SQLite takes to run it.
_AS_OF = bindparam("as_of", type_=BigInteger)
"""Valid time, in microseconds."""
_KNOWN_AT = bindparam("known_at", type_=BigInteger)
"""Transaction time, in microseconds."""
_TO = bindparam("through", type_=BigInteger)
"""The checkpoint's position: the log is read no further."""
_TOWN = bindparam("town", type_=String)

CHECKPOINT = select(checkpoints.c.position).where(checkpoints.c.name == SNAPSHOTS_CHECKPOINT)
"""The log position every snapshot and move reflects."""


def _bounds(one_town: bool) -> CTE:
    """Each town known at `known_at` (or just `town`), with the time its read folds up to.

    That is `as_of`, or the town's reach at `known_at` if earlier: no fact of
    the town known then folds later, so the read folds the same facts and
    searches its snapshots and reports no further than that.
    """
    reach = (
        select(reaches.c.occurred_at)
        .where(reaches.c.town == towns.c.town, reaches.c.known_from <= _KNOWN_AT)
        .order_by(reaches.c.known_from.desc(), reaches.c.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    until = case((reach < _AS_OF, reach), else_=_AS_OF)
    query = select(towns.c.town, until.label("until")).where(towns.c.first_known <= _KNOWN_AT)
    if one_town:
        query = query.where(towns.c.town == _TOWN)
    # Computed first, so each town's subqueries and joins search by its key.
    return query.cte("bounds").prefix_with("MATERIALIZED")


def _latest(bounds: CTE, column: Any) -> ScalarSelect[Any]:
    """`column` of the town's latest snapshot up to its bound that held at `known_at`."""
    inner = snapshots.alias("inner")
    return _newest_held(inner, inner.c.stream, inner.c[column.name], bounds.c.town, bounds.c.until)


def _newest_held(table: Any, town: Any, column: Any, of_town: Any, until: Any) -> ScalarSelect[Any]:
    """`column` of `table`'s latest row of `of_town` up to `until` that held at `known_at`."""
    return (
        select(column)
        .where(
            town == of_town,
            table.c.occurred_at <= until,
            table.c.known_from <= _KNOWN_AT,
            table.c.known_until > _KNOWN_AT,
        )
        .order_by(table.c.occurred_at.desc(), table.c.position.desc())
        .limit(1)
        .scalar_subquery()
    )


def _heads(bounds: CTE) -> Select[Any]:
    """Each town with its snapshot (if any), version and captives held."""
    version = (
        select(town_versions.c.version)
        .where(town_versions.c.town == bounds.c.town, town_versions.c.known_from <= _KNOWN_AT)
        .order_by(town_versions.c.known_from.desc(), town_versions.c.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    # Captives held here change with the records of other towns too: up to `as_of` itself.
    held = _newest_held(
        captives_held, captives_held.c.town, captives_held.c.held, bounds.c.town, _AS_OF
    )
    latest = and_(
        snapshots.c.stream == bounds.c.town,
        snapshots.c.occurred_at == _latest(bounds, snapshots.c.occurred_at),
        snapshots.c.position == _latest(bounds, snapshots.c.position),
        snapshots.c.known_from <= _KNOWN_AT,
        snapshots.c.known_until > _KNOWN_AT,
    )
    return (
        select(
            bounds.c.town,
            version.label("version"),
            held.label("held"),
            snapshots.c.occurred_at,
            snapshots.c.position,
            snapshots.c.known_from,
            snapshots.c.known_until,
            snapshots.c.state,
            snapshots.c.listed,
            snapshots.c.low,
            snapshots.c.best,
            snapshots.c.high,
        )
        .select_from(bounds.outerjoin(snapshots, latest))
        .order_by(bounds.c.town)
    )


def _since(bounds: CTE) -> CTE:
    """Each town's bound, and the occurred time of its snapshot there (None: from the start)."""
    query = select(
        bounds.c.town,
        bounds.c.until,
        func.coalesce(_latest(bounds, snapshots.c.occurred_at), BEFORE_ALL).label("since"),
    )
    # Computed first, so the joins walk each town's rows through its index from
    # the snapshot on; left to itself, SQLite scans the whole log instead.
    return query.cte("since").prefix_with("MATERIALIZED")


def _reports(since: CTE, dialect: str) -> Select[Any]:
    """The reports of each town from its snapshot's occurred time (or the start) to its bound."""
    reports = reports_within(since.c.town, since.c.since, since.c.until, _TO)
    return each_town(dialect, since, reports.where(events.c.recorded_at <= _KNOWN_AT))


def reports_within(town: Any, since: Any, until: Any, through: Any) -> Select[Any]:
    """The log's rows of the reports of `town` that occurred from `since` to `until`.

    Up to position `through`; found through `town_reports`, which the
    projector keeps, then taken from the log by position.
    """
    return (
        select(events)
        .select_from(town_reports.join(events, events.c.position == town_reports.c.position))
        .where(
            town_reports.c.town == town,
            town_reports.c.occurred_at >= since,
            town_reports.c.occurred_at <= until,
            town_reports.c.position <= through,
        )
    )


def _moved(since: CTE) -> Select[Any]:
    """Reports that corrections known at `known_at` moved into their town's tail."""
    return (
        select(events)
        .select_from(
            since.join(moves, moves.c.town == since.c.town).join(
                events, events.c.position == moves.c.position
            )
        )
        .where(
            moves.c.occurred_at >= since.c.since,
            moves.c.occurred_at <= since.c.until,
            moves.c.known_from <= _KNOWN_AT,
            events.c.position <= _TO,
        )
    )


def _listed(bounds: CTE) -> Select[Any]:
    """What each snapshot up to its town's bound that held at `known_at` added to its lists."""
    return (
        select(snapshots.c.stream, snapshots.c.listed)
        .select_from(bounds.join(snapshots, snapshots.c.stream == bounds.c.town))
        .where(
            snapshots.c.occurred_at <= bounds.c.until,
            snapshots.c.known_from <= _KNOWN_AT,
            snapshots.c.known_until > _KNOWN_AT,
            snapshots.c.listed.is_not(None),
        )
        .order_by(snapshots.c.stream, snapshots.c.occurred_at, snapshots.c.position)
    )


def _tolls(bounds: CTE) -> Select[Any]:
    """The sum of the dead of each town's snapshots up to its bound that held at `known_at`."""
    return (
        select(
            snapshots.c.stream,
            cast(func.sum(snapshots.c.low), BigInteger).label("low"),
            cast(func.sum(snapshots.c.best), BigInteger).label("best"),
            cast(func.sum(snapshots.c.high), BigInteger).label("high"),
        )
        .select_from(bounds.join(snapshots, snapshots.c.stream == bounds.c.town))
        .where(
            snapshots.c.occurred_at <= bounds.c.until,
            snapshots.c.known_from <= _KNOWN_AT,
            snapshots.c.known_until > _KNOWN_AT,
        )
        .group_by(snapshots.c.stream)
    )


_AMENDMENTS = select(events).where(
    events.c.target.in_(bindparam("ids", expanding=True)),
    events.c.recorded_at <= _KNOWN_AT,
    events.c.position <= _TO,
)
"""The amendments known at `known_at` of the reports `ids`."""


@dataclass(frozen=True, slots=True)
class _Statements:
    heads: Select[Any]
    reports: Select[Any]
    moved: Select[Any]
    listed: Select[Any]
    tolls: Select[Any]

    @classmethod
    @cache
    def built(cls, one_town: bool, dialect: str) -> _Statements:
        bounds = _bounds(one_town)
        since = _since(bounds)
        return cls(
            _heads(bounds),
            _reports(since, dialect),
            _moved(since),
            _listed(bounds),
            _tolls(bounds),
        )


def each_town(dialect: str, towns: CTE, rows: Select[Any]) -> Select[Any]:
    """`rows`, a query that names a row of `towns`, for each row of `towns`.

    On PostgreSQL a LATERAL subquery run once a town. Left to itself, the
    planner cannot tell how few rows each town's span holds: for the towns of
    a JSON array (it takes 100 rows whatever its length) or of a CTE, it
    judged a scan of the whole table cheaper than a search by key a town
    (165 ms for one town among a million snapshots; for every town's tail, a
    hash join over every report). SQLite has no LATERAL, and its planner
    searches each town by key.
    """
    if dialect == "postgresql":
        # OFFSET 0 keeps the planner from flattening the subquery into the join.
        each = rows.offset(0).lateral("each_town")
        return select(each).select_from(towns.join(each, true()))
    return rows.select_from(towns)


def chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _snapshot(head: Any) -> Snapshot | None:
    return None if head.state is None else snapshot_of(head, head.town)


def snapshot_of(row: Any, stream: str) -> Snapshot:
    """The snapshot of `stream` that a row with the snapshots table's columns holds."""
    until = None if row.known_until == FOREVER else from_micros(row.known_until)
    key = (from_micros(row.occurred_at), row.position)
    known_from = from_micros(row.known_from)
    toll = (row.low, row.best, row.high)
    return Snapshot(stream, key, known_from, row.state, until, row.listed, toll)
