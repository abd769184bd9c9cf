"""What reading towns at one moment takes, in a handful of queries whatever their number.

The queries run in one transaction that sees one state of the database, and
read the log only up to the checkpoint the snapshots reflect: a record
committed meanwhile, or not yet folded, is left out whole rather than half.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ScalarSelect,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.engine import Connection

from events.kinds import CORRECTION_KINDS
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
    snapshots,
    to_micros,
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
    statements = _ONE_TOWN if town is not None else _EVERY_TOWN
    through = conn.execute(CHECKPOINT).scalar_one()
    moment = {"as_of": to_micros(as_of), "known_at": to_micros(known_at), "through": through}
    params = {**moment, "town": town}
    heads = conn.execute(statements.heads, params).all()
    bounds = {head.town: head.occurred_at for head in heads}
    found: dict[int, Record] = {}
    for row in conn.execute(statements.reports, params):
        found.setdefault(row.position, record_of(row))
    for row in conn.execute(statements.moved, params):
        since = bounds.get(row.town, row.moved_to)
        if row.town in bounds and (since is None or since <= row.moved_to):
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


def _latest(column: Any) -> ScalarSelect[Any]:
    """`column` of the town's latest snapshot before `as_of` that held at `known_at`."""
    inner = snapshots.alias("inner")
    return _newest_held(inner, inner.c.stream, inner.c[column.name])


def _newest_held(table: Any, town: Any, column: Any) -> ScalarSelect[Any]:
    """`column` of `table`'s latest row of the town up to `as_of` that held at `known_at`."""
    return (
        select(column)
        .where(
            town == towns.c.town,
            table.c.occurred_at <= _AS_OF,
            table.c.known_from <= _KNOWN_AT,
            table.c.known_until > _KNOWN_AT,
        )
        .order_by(table.c.occurred_at.desc(), table.c.position.desc())
        .limit(1)
        .scalar_subquery()
    )


def _heads(one_town: bool) -> Select[Any]:
    """Each town with its snapshot (if any), version and captives held."""
    version = (
        select(events.c.version)
        .where(
            events.c.town == towns.c.town,
            events.c.recorded_at <= _KNOWN_AT,
            events.c.position <= _TO,
        )
        .order_by(events.c.recorded_at.desc(), events.c.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    held = _newest_held(captives_held, captives_held.c.town, captives_held.c.held)
    latest = and_(
        snapshots.c.stream == towns.c.town,
        snapshots.c.occurred_at == _latest(snapshots.c.occurred_at),
        snapshots.c.position == _latest(snapshots.c.position),
        snapshots.c.known_from <= _KNOWN_AT,
        snapshots.c.known_until > _KNOWN_AT,
    )
    query = (
        select(
            towns.c.town,
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
        .select_from(towns.outerjoin(snapshots, latest))
        .where(towns.c.first_known <= _KNOWN_AT)
        .order_by(towns.c.town)
    )
    return query.where(towns.c.town == _TOWN) if one_town else query


def _reports(one_town: bool) -> Select[Any]:
    """The reports of each town from its snapshot's occurred time (or the start) to `as_of`."""
    heads = select(towns.c.town, _latest(snapshots.c.occurred_at).label("since"))
    heads = heads.where(towns.c.first_known <= _KNOWN_AT)
    since = (heads.where(towns.c.town == _TOWN) if one_town else heads).cte("since")
    # Computed first, so the join walks each town's reports through its index
    # from the snapshot on; left to itself, SQLite scans the whole log instead.
    since = since.prefix_with("MATERIALIZED")
    return (
        select(events)
        .select_from(since.join(events, events.c.town == since.c.town))
        .where(
            events.c.occurred_at >= func.coalesce(since.c.since, BEFORE_ALL),
            events.c.occurred_at <= _AS_OF,
            events.c.recorded_at <= _KNOWN_AT,
            events.c.position <= _TO,
            events.c.kind.not_in(sorted(CORRECTION_KINDS)),
        )
    )


def _moved(one_town: bool) -> Select[Any]:
    """Reports that corrections known at `known_at` moved to a time up to `as_of`."""
    query = (
        select(events, moves.c.occurred_at.label("moved_to"))
        .select_from(moves.join(events, events.c.position == moves.c.position))
        .where(
            moves.c.occurred_at <= _AS_OF,
            moves.c.known_from <= _KNOWN_AT,
            events.c.position <= _TO,
        )
    )
    return query.where(moves.c.town == _TOWN) if one_town else query


def _listed(one_town: bool) -> Select[Any]:
    """What each snapshot up to `as_of` that held at `known_at` added to its town's lists."""
    query = (
        select(snapshots.c.stream, snapshots.c.listed)
        .where(
            snapshots.c.occurred_at <= _AS_OF,
            snapshots.c.known_from <= _KNOWN_AT,
            snapshots.c.known_until > _KNOWN_AT,
            snapshots.c.listed.is_not(None),
        )
        .order_by(snapshots.c.stream, snapshots.c.occurred_at, snapshots.c.position)
    )
    return query.where(snapshots.c.stream == _TOWN) if one_town else query


def _tolls(one_town: bool) -> Select[Any]:
    """The sum of the dead of each town's snapshots up to `as_of` that held at `known_at`."""
    query = (
        select(
            snapshots.c.stream,
            cast(func.sum(snapshots.c.low), BigInteger).label("low"),
            cast(func.sum(snapshots.c.best), BigInteger).label("best"),
            cast(func.sum(snapshots.c.high), BigInteger).label("high"),
        )
        .where(
            snapshots.c.occurred_at <= _AS_OF,
            snapshots.c.known_from <= _KNOWN_AT,
            snapshots.c.known_until > _KNOWN_AT,
        )
        .group_by(snapshots.c.stream)
    )
    return query.where(snapshots.c.stream == _TOWN) if one_town else query


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
    def built(cls, one_town: bool) -> _Statements:
        return cls(
            _heads(one_town),
            _reports(one_town),
            _moved(one_town),
            _listed(one_town),
            _tolls(one_town),
        )


_EVERY_TOWN = _Statements.built(one_town=False)
_ONE_TOWN = _Statements.built(one_town=True)


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
