"""Snapshots, moves and their checkpoint in the same database as the log."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Delete,
    Table,
    bindparam,
    delete,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy import Update as UpdateStatement
from sqlalchemy.engine import Connection

from events.kinds import CAPTIVE_KINDS
from events.record import Record
from events.snapshots import Held, Key, Move, ReadBack, Snapshot, TownRead, Update
from events.sql.every_town import CHECKPOINT, read_towns
from events.sql.read_back import read_back
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
from events.sql.store import SqlEventStore, record_of


class SqlSnapshots:
    """Snapshots kept by SQL beside the log; they go through the log's own connections."""

    def __init__(self, log: SqlEventStore) -> None:
        self._log = log

    def checkpoint(self) -> int:
        """The log position every snapshot and move reflects."""
        with self._log.connection() as conn:
            return int(conn.execute(CHECKPOINT).scalar_one())

    def read_back(
        self, starts: Mapping[str, Key], through: int, also: Mapping[str, Collection[int]]
    ) -> dict[str, ReadBack]:
        """For each town of `starts`, where refolding it from its start key begins."""
        with self._reading() as conn:
            return read_back(conn, starts, through, also)

    def moves(self, reports: Collection[tuple[str, int]]) -> list[Move]:
        """Every move of the `reports`, each named by its town and position."""
        # A position names one report, so the two lists cannot pair up wrongly.
        query = select(moves).where(
            moves.c.town.in_(sorted({town for town, _ in reports})),
            moves.c.position.in_(sorted({position for _, position in reports})),
        )
        with self._log.connection() as conn:
            return [
                Move(
                    row.town,
                    row.position,
                    from_micros(row.occurred_at),
                    from_micros(row.known_from),
                )
                for row in conn.execute(query)
            ]

    def captive_records(self, through: int) -> list[Record]:
        """Every captive report up to position `through`, and every amendment of one."""
        captive = events.c.kind.in_(sorted(CAPTIVE_KINDS))
        query = (
            select(events)
            .where(
                events.c.position <= through,
                or_(captive, events.c.target.in_(select(events.c.id).where(captive))),
            )
            .order_by(events.c.position)
        )
        with self._log.connection() as conn:
            return [record_of(row) for row in conn.execute(query)]

    def every_town(self, as_of: datetime, known_at: datetime) -> list[TownRead]:
        """What reading each town known at `known_at` as of `as_of` takes, in a few queries."""
        with self._reading() as conn:
            return read_towns(conn, as_of, known_at)

    def read_town(self, town: str, as_of: datetime, known_at: datetime) -> TownRead:
        """What reading `town` as of `as_of` as known at `known_at` takes."""
        with self._reading() as conn:
            found = read_towns(conn, as_of, known_at, town)
        return found[0] if found else TownRead(town, None, [], 0, 0)

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A transaction that sees one state of the database from its first query to its last."""
        with self._log.connection() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def save(self, change: Update) -> bool:
        """Apply `change` atomically; False, changing nothing, if the checkpoint is not `after`."""
        with self._log.connection(write=True) as conn, conn.begin():
            moved = conn.execute(
                update(checkpoints)
                .where(
                    checkpoints.c.name == SNAPSHOTS_CHECKPOINT,
                    checkpoints.c.position == change.after,
                )
                .values(position=change.through)
            )
            if moved.rowcount != 1:
                conn.rollback()
                return False
            self._write(conn, change)
        return True

    def reset(self) -> None:
        """Forget every snapshot, move and town; the checkpoint goes back to 0."""
        with self._log.connection(write=True) as conn, conn.begin():
            conn.execute(delete(snapshots))
            conn.execute(delete(moves))
            conn.execute(delete(towns))
            conn.execute(delete(captives_held))
            conn.execute(
                update(checkpoints)
                .where(checkpoints.c.name == SNAPSHOTS_CHECKPOINT)
                .values(position=0)
            )

    @staticmethod
    def _write(conn: Connection, change: Update) -> None:
        for closure in change.closures:
            _end(conn, _END_SNAPSHOTS, closure.key, closure.at, closure.stream)
        if change.snapshots:
            conn.execute(insert(snapshots), [_snapshot_row(s) for s in change.snapshots])
        if change.moves:
            conn.execute(insert(moves), [_move_row(m) for m in change.moves])
        for cut in change.cuts:
            _end(conn, _END_HELD, cut.key, cut.at)
        if change.held:
            conn.execute(insert(captives_held), [_held_row(row) for row in change.held])
        if change.towns:
            known = select(towns.c.town).where(towns.c.town.in_(list(change.towns)))
            new = change.towns.keys() - set(conn.execute(known).scalars())
            rows = [{"town": t, "first_known": to_micros(change.towns[t])} for t in sorted(new)]
            if rows:
                conn.execute(insert(towns), rows)


def _snapshot_row(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "stream": snapshot.stream,
        "occurred_at": to_micros(snapshot.key[0]),
        "position": snapshot.key[1],
        "known_from": to_micros(snapshot.known_from),
        "known_until": FOREVER,
        "state": snapshot.state,
        "listed": snapshot.listed,
    }


def _end(
    conn: Connection, ending: _Ending, key: Key, at: datetime, stream: str | None = None
) -> None:
    """End the open rows from `key` on at `at` (of `stream` only, for snapshots).

    A row that began at `at` itself never held: it goes, so that the step's own
    row for the same place and moment can take its place.
    """
    params = {
        "from_occurred": to_micros(key[0]),
        "from_position": key[1],
        "ended_at": to_micros(at),
        "of_stream": stream,
    }
    conn.execute(ending.delete, params)
    conn.execute(ending.update, params)


@dataclass(frozen=True, slots=True)
class _Ending:
    """The two statements that end a table's open rows from a place on, built once."""

    delete: Delete
    update: UpdateStatement

    @classmethod
    def of(cls, table: Table, *where: Any) -> _Ending:
        place = tuple_(table.c.occurred_at, table.c.position) >= tuple_(
            bindparam("from_occurred", type_=BigInteger),
            bindparam("from_position", type_=BigInteger),
        )
        at = bindparam("ended_at", type_=BigInteger)
        still = [*where, place, table.c.known_until == FOREVER]
        return cls(
            delete(table).where(*still, table.c.known_from == at),
            update(table).where(*still).values(known_until=at),
        )


_END_SNAPSHOTS = _Ending.of(snapshots, snapshots.c.stream == bindparam("of_stream"))
_END_HELD = _Ending.of(captives_held)


def _holding(known_from: Any, known_until: Any, known_at: datetime | None) -> list[Any]:
    """The conditions for a row that held at `known_at` (None: one that still holds)."""
    if known_at is None:
        return [known_until == FOREVER]
    at = to_micros(known_at)
    return [known_from <= at, known_until > at]


def _held_row(row: Held) -> dict[str, Any]:
    until = FOREVER if row.known_until is None else to_micros(row.known_until)
    return {
        "town": row.town,
        "occurred_at": to_micros(row.key[0]),
        "position": row.key[1],
        "known_from": to_micros(row.known_from),
        "known_until": until,
        "held": row.held,
    }


def _move_row(move: Move) -> dict[str, Any]:
    return {
        "town": move.town,
        "position": move.position,
        "occurred_at": to_micros(move.occurred_at),
        "known_from": to_micros(move.known_from),
    }
