"""What reading towns at one moment takes, in a handful of queries whatever their number.

The queries run in one transaction that sees one state of the database, and
read the log only up to the checkpoint the snapshots reflect: a record
committed meanwhile, or not yet folded, is left out whole rather than half.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import ScalarSelect, and_, func, select
from sqlalchemy.engine import Connection

from events.kinds import CORRECTION_KINDS
from events.record import Record
from events.snapshots import Snapshot, TownRead
from events.sql.schema import (
    FOREVER,
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
    moment = _Moment(conn, to_micros(as_of), to_micros(known_at))
    heads = conn.execute(moment.heads(town)).all()
    bounds = {head.town: head.occurred_at for head in heads}
    found: dict[int, Record] = {}
    for row in conn.execute(moment.reports(town)):
        found.setdefault(row.position, record_of(row))
    for row in conn.execute(moment.moved(town)):
        since = bounds.get(row.town, row.moved_to)
        if row.town in bounds and (since is None or since <= row.moved_to):
            found.setdefault(row.position, record_of(row))
    for ids in chunks([record.id for record in found.values()], IDS_PER_QUERY):
        for row in conn.execute(moment.amendments(ids)):
            found.setdefault(row.position, record_of(row))
    tails: dict[str, list[Record]] = {head.town: [] for head in heads}
    for record in found.values():
        tails[record.town].append(record)
    listed: dict[str, list[str]] = {}
    for row in conn.execute(moment.listed(town)):
        listed.setdefault(row.stream, []).append(row.listed)
    return [
        TownRead(
            head.town,
            _snapshot(head),
            tails[head.town],
            head.version or 0,
            head.held or 0,
            tuple(listed.get(head.town, ())),
        )
        for head in heads
    ]


class _Moment:
    """The statements of one read at `as_of` and `known_at` (microseconds), to the checkpoint."""

    def __init__(self, conn: Connection, as_of: int, known_at: int) -> None:
        self.as_of = as_of
        self.known_at = known_at
        self.through = int(
            conn.execute(
                select(checkpoints.c.position).where(checkpoints.c.name == "snapshots")
            ).scalar_one()
        )

    def heads(self, town: str | None) -> Any:
        """Each town with its snapshot (if any), version and captives held."""
        version = (
            select(events.c.version)
            .where(
                events.c.town == towns.c.town,
                events.c.recorded_at <= self.known_at,
                events.c.position <= self.through,
            )
            .order_by(events.c.recorded_at.desc(), events.c.version.desc())
            .limit(1)
            .scalar_subquery()
        )
        held = (
            select(captives_held.c.held)
            .where(
                captives_held.c.town == towns.c.town,
                captives_held.c.occurred_at <= self.as_of,
                captives_held.c.known_from <= self.known_at,
                captives_held.c.known_until > self.known_at,
            )
            .order_by(captives_held.c.occurred_at.desc(), captives_held.c.position.desc())
            .limit(1)
            .scalar_subquery()
        )
        latest = and_(
            snapshots.c.stream == towns.c.town,
            snapshots.c.occurred_at == self._latest(snapshots.c.occurred_at),
            snapshots.c.position == self._latest(snapshots.c.position),
            snapshots.c.known_from <= self.known_at,
            snapshots.c.known_until > self.known_at,
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
            )
            .select_from(towns.outerjoin(snapshots, latest))
            .where(towns.c.first_known <= self.known_at)
            .order_by(towns.c.town)
        )
        return query if town is None else query.where(towns.c.town == town)

    def reports(self, town: str | None) -> Any:
        """The reports of each town from its snapshot's occurred time (or the start) to `as_of`."""
        heads = select(towns.c.town, self._latest(snapshots.c.occurred_at).label("since"))
        heads = heads.where(towns.c.first_known <= self.known_at)
        since = (heads if town is None else heads.where(towns.c.town == town)).cte("since")
        return (
            select(events)
            .select_from(since.join(events, events.c.town == since.c.town))
            .where(
                events.c.occurred_at >= func.coalesce(since.c.since, BEFORE_ALL),
                events.c.occurred_at <= self.as_of,
                events.c.recorded_at <= self.known_at,
                events.c.position <= self.through,
                events.c.kind.not_in(sorted(CORRECTION_KINDS)),
            )
        )

    def moved(self, town: str | None) -> Any:
        """Reports that corrections known at `known_at` moved to a time up to `as_of`."""
        query = (
            select(events, moves.c.occurred_at.label("moved_to"))
            .select_from(moves.join(events, events.c.position == moves.c.position))
            .where(
                moves.c.occurred_at <= self.as_of,
                moves.c.known_from <= self.known_at,
                events.c.position <= self.through,
            )
        )
        return query if town is None else query.where(moves.c.town == town)

    def listed(self, town: str | None) -> Any:
        """What each snapshot up to `as_of` that held at `known_at` added to its town's lists."""
        query = (
            select(snapshots.c.stream, snapshots.c.listed)
            .where(
                snapshots.c.occurred_at <= self.as_of,
                snapshots.c.known_from <= self.known_at,
                snapshots.c.known_until > self.known_at,
                snapshots.c.listed.is_not(None),
            )
            .order_by(snapshots.c.stream, snapshots.c.occurred_at, snapshots.c.position)
        )
        return query if town is None else query.where(snapshots.c.stream == town)

    def amendments(self, ids: list[Any]) -> Any:
        """The amendments known at `known_at` of the reports `ids`."""
        return select(events).where(
            events.c.target.in_(ids),
            events.c.recorded_at <= self.known_at,
            events.c.position <= self.through,
        )

    def _latest(self, column: Any) -> ScalarSelect[Any]:
        """`column` of the town's latest snapshot before `as_of` that held at `known_at`."""
        inner = snapshots.alias("inner")
        return (
            select(inner.c[column.name])
            .where(
                inner.c.stream == towns.c.town,
                inner.c.occurred_at <= self.as_of,
                inner.c.known_from <= self.known_at,
                inner.c.known_until > self.known_at,
            )
            .order_by(inner.c.occurred_at.desc(), inner.c.position.desc())
            .limit(1)
            .scalar_subquery()
        )


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
    return Snapshot(stream, key, from_micros(row.known_from), row.state, until, row.listed)
