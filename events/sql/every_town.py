"""Everything a read of every town at one moment takes, in three queries whatever the count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ScalarSelect, and_, func, literal, select
from sqlalchemy.engine import Connection

from events.kinds import CORRECTION_KINDS
from events.record import Record
from events.snapshots import Snapshot, TownRead
from events.sql.schema import (
    FOREVER,
    captives_held,
    events,
    from_micros,
    moves,
    snapshots,
    to_micros,
    towns,
)
from events.sql.store import record_of

_BEFORE_ALL = -(2**62)


def read_every_town(conn: Connection, as_of: datetime, known_at: datetime) -> list[TownRead]:
    """For each town known at `known_at`: its snapshot, tail, version and captives held."""
    moment = _Moment(to_micros(as_of), to_micros(known_at))
    heads = conn.execute(moment.heads()).all()
    tails: dict[str, list[Record]] = {head.town: [] for head in heads}
    found = [record_of(row) for row in conn.execute(moment.reports())]
    seen = {record.position for record in found}
    found += [
        record
        for record in map(record_of, conn.execute(moment.moved()))
        if record.position not in seen
    ]
    ids = [record.id for record in found]
    if ids:
        found += map(record_of, conn.execute(moment.amendments(ids)))
    for record in found:
        tails[record.town].append(record)
    return [
        TownRead(head.town, _snapshot(head), tails[head.town], head.version or 0, head.held or 0)
        for head in heads
    ]


class _Moment:
    """The statements of one read, at `as_of` and `known_at` in microseconds."""

    def __init__(self, as_of: int, known_at: int) -> None:
        self.as_of = as_of
        self.known_at = known_at

    def heads(self) -> Any:
        """Each town with its snapshot (if any), version and captives held."""
        version = (
            select(events.c.version)
            .where(events.c.town == towns.c.town, events.c.recorded_at <= self.known_at)
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
        return (
            select(
                towns.c.town,
                version.label("version"),
                held.label("held"),
                snapshots.c.occurred_at,
                snapshots.c.position,
                snapshots.c.known_from,
                snapshots.c.known_until,
                snapshots.c.state,
            )
            .select_from(towns.outerjoin(snapshots, latest))
            .where(towns.c.first_known <= self.known_at)
            .order_by(towns.c.town)
        )

    def reports(self) -> Any:
        """Every town's reports from its snapshot's occurred time to `as_of`."""
        since = func.coalesce(
            self._latest(snapshots.c.occurred_at), literal(_BEFORE_ALL, BigInteger)
        )
        return (
            select(events)
            .select_from(
                towns.join(
                    events, and_(events.c.town == towns.c.town, events.c.occurred_at >= since)
                )
            )
            .where(
                towns.c.first_known <= self.known_at,
                events.c.occurred_at <= self.as_of,
                events.c.recorded_at <= self.known_at,
                events.c.kind.not_in(sorted(CORRECTION_KINDS)),
            )
        )

    def moved(self) -> Any:
        """Reports that corrections known at `known_at` moved into a town's tail."""
        since = func.coalesce(
            self._latest(snapshots.c.occurred_at), literal(_BEFORE_ALL, BigInteger)
        )
        return (
            select(events)
            .select_from(
                towns.join(
                    moves, and_(moves.c.town == towns.c.town, moves.c.occurred_at >= since)
                ).join(events, events.c.position == moves.c.position)
            )
            .where(
                moves.c.occurred_at <= self.as_of,
                moves.c.known_from <= self.known_at,
                events.c.recorded_at <= self.known_at,
            )
        )

    def amendments(self, ids: list[Any]) -> Any:
        """The amendments known at `known_at` of the reports `ids`."""
        return select(events).where(events.c.target.in_(ids), events.c.recorded_at <= self.known_at)

    def _since(self) -> Any:
        """Where the town's tail starts: its snapshot's occurred time, or before everything."""
        return func.coalesce(
            self._latest(snapshots.c.occurred_at), literal(_BEFORE_ALL, BigInteger)
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


def _snapshot(head: Any) -> Snapshot | None:
    if head.state is None:
        return None
    until = None if head.known_until == FOREVER else from_micros(head.known_until)
    key = (from_micros(head.occurred_at), head.position)
    return Snapshot(head.town, key, from_micros(head.known_from), head.state, until)
